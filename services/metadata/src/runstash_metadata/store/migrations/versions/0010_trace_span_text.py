"""traces: full text through one trigram-indexed text row per trace and write (PostgreSQL)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

The per-span trigram index ``ix_trace_spans_attributes_text`` goes; ``trace_span_text`` and the
triggers that keep it take its place (store/queries/ddl.py says why). Existing spans are copied
into it, one row per trace. SQLite (FTS5) and MySQL/MariaDB are unchanged.
Frozen copy of the DDL at revision 0010.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_UPGRADE = (
    "DROP INDEX IF EXISTS ix_trace_spans_attributes_text",
    "CREATE TABLE trace_span_text (trace_id VARCHAR(50) NOT NULL, doc TEXT NOT NULL)",
    "INSERT INTO trace_span_text (trace_id, doc) SELECT trace_id, string_agg(attributes::text, E'\\n') "
    "FROM trace_spans WHERE attributes IS NOT NULL GROUP BY trace_id",
    "CREATE INDEX ix_trace_span_text_trace_id ON trace_span_text (trace_id)",
    "CREATE INDEX ix_trace_span_text_doc ON trace_span_text USING gin (doc gin_trgm_ops)",
    "CREATE FUNCTION trace_span_text_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO trace_span_text (trace_id, doc) SELECT trace_id, string_agg(attributes::text, E'\\n') "
    "FROM new_spans WHERE attributes IS NOT NULL GROUP BY trace_id; RETURN NULL; END $$",
    "CREATE FUNCTION trace_span_text_drop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM trace_span_text WHERE trace_id IN (SELECT DISTINCT trace_id FROM old_spans); "
    "RETURN NULL; END $$",
    "CREATE TRIGGER trace_span_text_insert AFTER INSERT ON trace_spans REFERENCING NEW TABLE AS "
    "new_spans FOR EACH STATEMENT EXECUTE FUNCTION trace_span_text_add()",
    "CREATE TRIGGER trace_span_text_update AFTER UPDATE ON trace_spans REFERENCING NEW TABLE AS "
    "new_spans FOR EACH STATEMENT EXECUTE FUNCTION trace_span_text_add()",
    "CREATE TRIGGER trace_span_text_delete AFTER DELETE ON trace_spans REFERENCING OLD TABLE AS "
    "old_spans FOR EACH STATEMENT EXECUTE FUNCTION trace_span_text_drop()",
)
_DOWNGRADE = (
    "DROP TRIGGER trace_span_text_delete ON trace_spans",
    "DROP TRIGGER trace_span_text_update ON trace_spans",
    "DROP TRIGGER trace_span_text_insert ON trace_spans",
    "DROP FUNCTION trace_span_text_drop()",
    "DROP FUNCTION trace_span_text_add()",
    "DROP TABLE trace_span_text",
    "CREATE INDEX ix_trace_spans_attributes_text ON trace_spans USING gin ((attributes::text) gin_trgm_ops)",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWNGRADE:
            op.execute(statement)
