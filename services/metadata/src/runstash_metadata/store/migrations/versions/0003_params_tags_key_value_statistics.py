"""extended statistics on params/tags (key, value), PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

A value belongs to one key (``p1 = 'x'``), but the planner multiplies the two selectivities as if
independent and underestimates ``key = 'p1' AND value = 'x'`` tenfold (493 rows for 4,874 on 10,000
runs), then nested-loops a primary-key probe per run. An MCV list on (key, value) gives the joint
frequency: hash joins, 65 ms -> 20 ms for a filtered, metric-ordered search.
"""

from __future__ import annotations

from alembic import op

from runstash_metadata.store.queries.ddl import KEY_VALUE_STATISTICS

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in KEY_VALUE_STATISTICS.values():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in KEY_VALUE_STATISTICS:
            op.execute(f"DROP STATISTICS IF EXISTS {name}")
