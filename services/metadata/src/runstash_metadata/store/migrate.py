"""Bring a database to the schema head with Alembic, without an alembic.ini.

Start-up must stay fast: when ``alembic_version`` already holds :data:`HEAD_REVISION` the check is
one SELECT and Alembic itself is never imported.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Keep equal to the newest revision in migrations/versions (a test checks it).
HEAD_REVISION = "0002"


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except DBAPIError:
        return None
    return None if row is None else str(row[0])


def upgrade_to_head(engine: Engine) -> None:
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except DBAPIError:
        # Another replica may have migrated concurrently; that is fine if it reached head.
        if current_revision(engine) != HEAD_REVISION:
            raise
