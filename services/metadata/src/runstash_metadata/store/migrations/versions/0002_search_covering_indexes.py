"""covering indexes for search (requests-search.md)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

* latest_metrics (key, run_uuid) INCLUDE (value, is_nan) on PostgreSQL, (key, run_uuid, value,
  is_nan) elsewhere: ordering by a metric becomes an index-only hash join instead of a primary-key
  probe plus a heap visit per matched run.
* params / tags (key, run_uuid) on PostgreSQL: a key-leading alternative to the value hash index,
  so `params.k = 'v'` does not read every row with that value under any key. (SQLite and MySQL
  already have key-leading (key, value) indexes.)
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_latest_metrics_key_run_uuid",
            "latest_metrics",
            ["key", "run_uuid"],
            postgresql_include=["value", "is_nan"],
        )
        op.create_index("ix_params_key_run_uuid", "params", ["key", "run_uuid"])
        op.create_index("ix_tags_key_run_uuid", "tags", ["key", "run_uuid"])
    else:
        op.create_index(
            "ix_latest_metrics_key_run_uuid", "latest_metrics", ["key", "run_uuid", "value", "is_nan"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_tags_key_run_uuid", table_name="tags")
        op.drop_index("ix_params_key_run_uuid", table_name="params")
    op.drop_index("ix_latest_metrics_key_run_uuid", table_name="latest_metrics")
