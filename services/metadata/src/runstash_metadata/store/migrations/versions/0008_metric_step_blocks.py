"""metric step blocks (PostgreSQL): the exact bulk-interval sample without scanning the history

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03

Per (run, key) and block of 1024 steps: the points stored, a bitmap of the steps present and the
timestamp range (see ``queries.ddl.STEP_BLOCKS_DDL``), maintained by every points write from now on
and filled here from the points already stored.
"""

from __future__ import annotations

from alembic import op

from runstash_metadata.store.queries.ddl import STEP_BLOCK_ROWS, STEP_BLOCKS_DDL

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(STEP_BLOCKS_DDL)
    op.execute(
        "INSERT INTO metric_step_blocks (run_uuid, key, block, points, steps, min_ts, max_ts) "
        + STEP_BLOCK_ROWS.format(source="metrics")
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE metric_step_blocks")
