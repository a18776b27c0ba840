"""Bring a database to the schema head with Alembic, without an alembic.ini.

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

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Keep equal to the newest revision in migrations/versions (a test checks it).
HEAD_REVISION = "0004"


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except DBAPIError:
        return None
    return None if row is None else str(row[0])


def _no_statement_timeout(conn: Connection) -> None:
    """Schema changes may rebuild indexes of big tables: no request timeout for them."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SET LOCAL lock_timeout = 0"))


def upgrade_to_head(engine: Engine) -> None:
    if current_revision(engine) == HEAD_REVISION:
        return
    if engine.dialect.name in ("postgresql", "sqlite") and create_fresh(engine):
        return
    upgrade_with_alembic(engine)


def create_fresh(engine: Engine) -> bool:
    """Create the head schema if the database holds none of it; False if it is not empty."""
    from runstash_metadata.store import schema_registry  # noqa: F401  (its tables join the metadata)
    from runstash_metadata.store.schema import metadata

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
