"""chart stride indexes on metrics (PostgreSQL, SQLite): the UI's chart data as short index ranges

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03

Per stride of ``queries.ddl.CHART_STRIDES``, a partial index over the points whose step is a
multiple of it (see ``queries.ddl.chart_stride_index`` and ``store/chart_history.py``). MySQL and
MariaDB have no partial indexes: their charts keep the sampling path.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from runstash_metadata.store.queries.ddl import CHART_STRIDES, chart_stride_index

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    name = op.get_bind().dialect.name
    if name not in {"postgresql", "sqlite"}:
        return
    for stride in CHART_STRIDES:
        op.execute(text(chart_stride_index(stride, include=name == "postgresql")))


def downgrade() -> None:
    if op.get_bind().dialect.name in {"postgresql", "sqlite"}:
        for stride in CHART_STRIDES:
            op.drop_index(f"ix_metrics_stride_{stride}", table_name="metrics")
