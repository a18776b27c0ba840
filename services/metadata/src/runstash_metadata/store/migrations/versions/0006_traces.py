"""traces: trace info, tags, request metadata, spans (indexed attributes, full text), assessments

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-03

Frozen copy of tracing/schema.py at revision 0006.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}

_POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE trace_spans ALTER COLUMN attributes TYPE JSONB USING attributes::jsonb",
    "CREATE INDEX ix_trace_spans_attributes ON trace_spans USING gin (attributes jsonb_path_ops)",
    "CREATE INDEX ix_trace_spans_attributes_text ON trace_spans USING gin ((attributes::text) gin_trgm_ops)",
)
_SQLITE = (
    "CREATE VIRTUAL TABLE trace_spans_fts USING fts5(attributes, content='trace_spans', "
    "content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER trace_spans_fts_insert AFTER INSERT ON trace_spans BEGIN "
    "INSERT INTO trace_spans_fts(rowid, attributes) VALUES (new.rowid, new.attributes); END",
    "CREATE TRIGGER trace_spans_fts_delete AFTER DELETE ON trace_spans BEGIN "
    "INSERT INTO trace_spans_fts(trace_spans_fts, rowid, attributes) "
    "VALUES ('delete', old.rowid, old.attributes); END",
    "CREATE TRIGGER trace_spans_fts_update AFTER UPDATE OF attributes ON trace_spans BEGIN "
    "INSERT INTO trace_spans_fts(trace_spans_fts, rowid, attributes) "
    "VALUES ('delete', old.rowid, old.attributes); "
    "INSERT INTO trace_spans_fts(rowid, attributes) VALUES (new.rowid, new.attributes); END",
)


def _key_value(name: str) -> None:
    op.create_table(
        name,
        sa.Column("trace_id", sa.String(length=50), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("trace_id", "key", name=op.f(f"pk_{name}")),
        **_MYSQL,
    )


def upgrade() -> None:
    op.create_table(
        "trace_info",
        sa.Column("trace_id", sa.String(length=50), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("client_request_id", sa.String(length=250), nullable=True),
        sa.Column("request_time", sa.BigInteger(), nullable=False),
        sa.Column("execution_duration", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("request_preview", sa.String(length=1000), nullable=True),
        sa.Column("response_preview", sa.String(length=1000), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("session_id", sa.String(length=250), nullable=True),
        sa.Column("user_id", sa.String(length=250), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("span_count", sa.Integer(), nullable=False),
        sa.Column("root_seen", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", name=op.f("pk_trace_info")),
        **_MYSQL,
    )
    op.create_index(
        "ix_trace_info_experiment_id_request_time",
        "trace_info",
        ["experiment_id", "request_time", "trace_id"],
    )
    op.create_index("ix_trace_info_experiment_id_session_id", "trace_info", ["experiment_id", "session_id"])
    op.create_index("ix_trace_info_request_time", "trace_info", ["request_time"])
    _key_value("trace_tags")
    _key_value("trace_request_metadata")
    op.create_table(
        "trace_spans",
        sa.Column("trace_id", sa.String(length=50), nullable=False),
        sa.Column("span_id", sa.String(length=32), nullable=False),
        sa.Column("parent_span_id", sa.String(length=32), nullable=True),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("span_type", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column("start_time_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_time_ns", sa.BigInteger(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name=op.f("pk_trace_spans")),
        **_MYSQL,
    )
    for column in ("name", "span_type", "status"):
        op.create_index(f"ix_trace_spans_experiment_id_{column}", "trace_spans", ["experiment_id", column])
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES if dialect == "postgresql" else _SQLITE if dialect == "sqlite" else ():
        op.execute(statement)
    op.create_table(
        "trace_assessments",
        sa.Column("assessment_id", sa.String(length=50), nullable=False),
        sa.Column("trace_id", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_trace_assessments")),
        **_MYSQL,
    )
    op.create_index("ix_trace_assessments_trace_id", "trace_assessments", ["trace_id"])


def downgrade() -> None:
    op.drop_table("trace_assessments")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE trace_spans_fts")
    op.drop_table("trace_spans")
    op.drop_table("trace_request_metadata")
    op.drop_table("trace_tags")
    op.drop_table("trace_info")
