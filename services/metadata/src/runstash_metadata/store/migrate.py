"""The database schema's version: checked at start-up, upgraded on request, with Alembic.

A server starts only on a schema at :data:`HEAD_REVISION` (or an empty database, which gets the
head schema directly); an older or newer schema is refused with what to run
(:class:`SchemaVersionError`). Upgrades are an operator's explicit step, ``runstash db upgrade
URI``, so that no replica migrates a shared database behind its peers' backs.

Start-up must stay fast: when ``alembic_version`` already holds :data:`HEAD_REVISION` the check is
one SELECT and Alembic itself is never imported. An empty PostgreSQL or SQLite database gets the
head schema from ``schema.metadata`` in one transaction, stamped with :data:`HEAD_REVISION`: the
same schema (a test compares both on every database) without importing Alembic and replaying
every revision (1.4 s of a cold start on a fresh database, measured under load). MySQL keeps the
Alembic path: its DDL is not transactional, so a half-created schema could not be rolled back.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from runstash_metadata.store.queries.ddl import ddl_for

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Keep equal to the newest revision in migrations/versions (a test checks it).
HEAD_REVISION = "0010"


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except DBAPIError:
        return None
    return None if row is None else str(row[0])


def _no_statement_timeout(conn: Connection) -> None:
    """Schema changes may rebuild indexes of big tables: no request timeout for them."""
    ddl_for(conn.dialect.name).relax_timeouts(conn)


class SchemaVersionError(RuntimeError):
    """The database schema is not the one this code was built for; the message says what to do."""


def _display_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def known_revisions() -> list[str]:
    """Every revision of the migration chain, oldest first (imports Alembic: not on the fast path)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _is_empty(engine: Engine) -> bool:
    from runstash_metadata.store.schema import metadata

    with engine.connect() as conn:
        existing = set(inspect(conn).get_table_names())
    return not existing & {*metadata.tables, "alembic_version"}


def ensure_current_schema(engine: Engine) -> None:
    """At start-up: the head schema on an empty database; refuse any other version."""
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    if revision is None and _is_empty(engine):
        upgrade_to_head(engine)
        return
    raise _version_error(engine, revision)


def _version_error(engine: Engine, revision: str | None) -> SchemaVersionError:
    url = _display_url(engine)
    if revision is not None and revision not in known_revisions():
        return SchemaVersionError(
            f"The database {url} has schema revision {revision}, newer than this runstash knows "
            f"(its newest is {HEAD_REVISION}): run the runstash version that upgraded it."
        )
    found = "no runstash schema version" if revision is None else f"schema revision {revision}"
    return SchemaVersionError(
        f"The database {url} has {found}; this runstash needs {HEAD_REVISION}. "
        f"Back it up, then run: runstash db upgrade '{url}'"
    )


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to head: created directly on an empty database, else migrated."""
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    if revision is not None and revision not in known_revisions():
        raise _version_error(engine, revision)
    if ddl_for(engine.dialect.name).transactional and create_fresh(engine):
        return
    upgrade_with_alembic(engine)


def create_fresh(engine: Engine) -> bool:
    """Create the head schema if the database holds none of it; False if it is not empty."""
    from runstash_metadata.store import (
        schema_identity,  # noqa: F401  (its tables join the metadata)
        schema_registry,  # noqa: F401  (its tables join the metadata)
    )
    from runstash_metadata.store.schema import metadata
    from runstash_metadata.tracing import schema  # noqa: F401  (its tables join the metadata)

    try:
        with engine.begin() as conn:
            _no_statement_timeout(conn)
            existing = set(inspect(conn).get_table_names())
            if existing & {*metadata.tables, "alembic_version"}:
                return False
            metadata.create_all(conn, checkfirst=False)
            conn.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION})
    except DBAPIError:
        # Another replica may have created it concurrently; that is fine if it reached head.
        if current_revision(engine) != HEAD_REVISION:
            raise
    return True


def upgrade_with_alembic(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as conn:
            _no_statement_timeout(conn)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except DBAPIError:
        # Another replica may have migrated concurrently; that is fine if it reached head.
        if current_revision(engine) != HEAD_REVISION:
            raise
