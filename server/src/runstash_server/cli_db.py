"""`runstash db`: the backend database's schema version, shown and upgraded (Alembic underneath).

A server refuses to start on a schema older or newer than its code; `runstash db upgrade URI` is
the operator's explicit step between stopping the old version and starting the new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlalchemy import Engine


@contextmanager
def _engine(uri: str) -> Iterator[Engine]:
    from runstash_metadata.store.queries import queries_for_url

    engine, read_engine = queries_for_url(uri).create_engines()
    try:
        yield engine
    finally:
        engine.dispose()
        if read_engine is not engine:
            read_engine.dispose()


@click.group()
def db() -> None:
    """Show or upgrade the schema of a backend store (URI as for --backend-store-uri)."""


@db.command()
@click.argument("uri")
def current(uri: str) -> None:
    """Print the schema revision of the database at URI, and whether it is this runstash's."""
    from runstash_metadata.store.migrate import HEAD_REVISION, current_revision

    with _engine(uri) as engine:
        revision = current_revision(engine)
    if revision is None:
        click.echo(f"none (no runstash schema; this runstash's is {HEAD_REVISION})")
    elif revision == HEAD_REVISION:
        click.echo(f"{revision} (head)")
    else:
        click.echo(f"{revision} (this runstash's is {HEAD_REVISION}: runstash db upgrade URI)")


@db.command()
@click.argument("uri")
def upgrade(uri: str) -> None:
    """Upgrade the database at URI to this runstash's schema (back it up first)."""
    from runstash_metadata.store.migrate import (
        HEAD_REVISION,
        SchemaVersionError,
        current_revision,
        upgrade_to_head,
    )

    with _engine(uri) as engine:
        before = current_revision(engine)
        try:
            upgrade_to_head(engine)
        except SchemaVersionError as exc:
            raise click.ClickException(str(exc)) from None
    if before == HEAD_REVISION:
        click.echo(f"Already at {HEAD_REVISION} (head).")
    else:
        click.echo(f"Upgraded from {before or 'an empty database'} to {HEAD_REVISION} (head).")
