"""Alembic environment: used when migrations run through the ``alembic`` command line.

The service itself never reads this file's config from disk: :func:`runstash_metadata.store.migrate.upgrade`
drives the same script directory programmatically with an existing connection.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from runstash_metadata.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
