"""model registry: registered models, versions, tags, aliases, webhooks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Frozen copy of store/schema_registry.py at revision 0005.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registered_models")),
        **_MYSQL,
    )
    op.create_index(
        "ix_registered_models_last_updated_time", "registered_models", ["last_updated_time"], unique=False
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_registered_model_tags")),
        **_MYSQL,
    )
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=True),
        sa.Column("current_stage", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("storage_location", sa.String(length=500), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("run_link", sa.String(length=500), nullable=True),
        sa.Column("model_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_message", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_model_versions")),
        **_MYSQL,
    )
    op.create_index(
        "ix_model_versions_last_updated_time", "model_versions", ["last_updated_time"], unique=False
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"], unique=False)
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", "version", "key", name=op.f("pk_model_version_tags")),
        **_MYSQL,
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name=op.f("pk_registered_model_aliases")),
        **_MYSQL,
    )
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("deleted_timestamp", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_webhooks")),
        **_MYSQL,
    )
    op.create_index("ix_webhooks_creation_timestamp", "webhooks", ["creation_timestamp"], unique=False)
    op.create_table(
        "webhook_events",
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", "entity", "action", name=op.f("pk_webhook_events")),
        **_MYSQL,
    )
    op.create_index("ix_webhook_events_entity_action", "webhook_events", ["entity", "action"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_webhook_deliveries")),
        **_MYSQL,
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_id_timestamp",
        "webhook_deliveries",
        ["webhook_id", "timestamp"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhooks")
    op.drop_table("registered_model_aliases")
    op.drop_table("model_version_tags")
    op.drop_table("model_versions")
    op.drop_table("registered_model_tags")
    op.drop_table("registered_models")
