"""The schema's differences per database family: the DDL-side companion of the query objects.

``schema.metadata.create_all`` (a fresh database, tests, tools) asks :func:`ddl_for` with the
connection's dialect for what its database adds to the portable tables of
:mod:`runstash_metadata.store.schema`, and :mod:`runstash_metadata.store.migrate` asks it how
schema changes run there. The migrations spell the same differences out revision by revision.

Long text values (param/tag values) cannot sit in a plain btree on every database: PostgreSQL caps
an index row at ~2.7 kB and MySQL at 3072 bytes. Value lookups therefore use a hash index on
PostgreSQL (equality only, no size limit), a 255-char prefix on MySQL, and a full btree on SQLite.

The indexes are declared when a database of the family is first created, not at import: SQLAlchemy
imports a dialect's package to check its keyword arguments (``mysql_length``, ``postgresql_using``),
which would cost every process every dialect package (0.3-1 s of start-up).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import DDL, Connection, Index, MetaData, event, text

from runstash_metadata.store import schema as s

# PostgreSQL extended statistics (migration 0003): a value belongs to one key, so the planner
# needs the joint frequency of (key, value) to estimate `params.k = 'v'`.
KEY_VALUE_STATISTICS = {
    f"st_{name}_key_value": (
        f"CREATE STATISTICS IF NOT EXISTS st_{name}_key_value (mcv) ON key, value FROM {name}"
    )
    for name in ("params", "tags")
}

# PostgreSQL: per (run, key) and block of 1024 steps, the points stored and a bitmap of the steps
# present, maintained by the points write (queries/postgres.py; migration 0008). A block whose
# point count equals its bitmap's population has each of its steps exactly once, so a position in
# the (step, ...) order maps to a step by arithmetic: the exact NTILE sample of
# get-history-bulk-interval without counting or numbering the history (sampled_history.py).
# The blocks' timestamp ranges tell when a history's (timestamp, step, value) order is block by
# block (each block's range at or after the previous one's), so a get-history page reads only its
# own blocks through the primary key instead of sorting the whole history (history.py).
# Points are never deleted one by one; whatever deletes a run's metrics must delete its blocks.
STEP_BLOCK_BITS = 1024
STEP_BLOCKS_DDL = f"""CREATE TABLE metric_step_blocks (
    run_uuid VARCHAR(32) NOT NULL,
    key VARCHAR(250) NOT NULL,
    block BIGINT NOT NULL,
    points BIGINT NOT NULL,
    steps BIT({STEP_BLOCK_BITS}) NOT NULL,
    min_ts BIGINT NOT NULL,
    max_ts BIGINT NOT NULL,
    CONSTRAINT pk_metric_step_blocks PRIMARY KEY (run_uuid, key, block)
)"""
# The block rows of a set of points ``{source}`` (run_uuid, key, step, "timestamp").
STEP_BLOCK_ROWS = f"""SELECT run_uuid, key, step >> 10, count(*),
       bit_or(set_bit(CAST(B'0' AS BIT({STEP_BLOCK_BITS})), CAST(step & 1023 AS INTEGER), 1)),
       min("timestamp"), max("timestamp")
FROM {{source}} GROUP BY run_uuid, key, step >> 10"""

# Chart strides (store/chart_history.py, migration 0009): per stride, a partial index over the points
# whose step is a multiple of it, covering the point. A chart that wants ~N points of a run spanning
# S steps reads the stride nearest S / N as one short index range per run, instead of probing or
# numbering the whole history. Kept by every write path (a partial index needs no write code), and
# small: with dense steps the five hold about 2% of the points. MySQL has no partial indexes.
CHART_STRIDES = (64, 256, 1024, 4096, 16384)


def chart_stride_index(stride: int, *, include: bool) -> str:
    """The CREATE INDEX of one stride: INCLUDE columns where the database has them (PostgreSQL)."""
    point = '"timestamp", value, is_nan'
    columns = f"run_uuid, key, step) INCLUDE ({point}" if include else f"run_uuid, key, step, {point}"
    return f"CREATE INDEX ix_metrics_stride_{stride} ON metrics ({columns}) WHERE step % {stride} = 0"


# Trace spans (migrations 0006, 0010): attribute containment through a GIN index over JSONB
# (PostgreSQL); full text through an external-content FTS5 trigram table kept by triggers (SQLite).
# MySQL/MariaDB filter spans by scanning.
# PostgreSQL full text: a trigram index per span (every span's attributes text) made each span
# insert several times dearer than all its other indexes together. Instead, statement-level
# triggers keep ``trace_span_text``: one row per trace and write statement holding the text of
# the spans it wrote (attributes::text, one line each), so a trigram shared by the spans of a
# trace is indexed once. A search uses it to find candidate traces, then checks the exact
# pattern on their spans (Queries.trace_text_match), so stale or partial rows never change a
# result. A span delete removes its trace's rows (spans are only deleted with their trace).
TRACE_SPAN_TEXT_POSTGRES_DDL = (
    "CREATE TABLE trace_span_text (trace_id VARCHAR(50) NOT NULL, doc TEXT NOT NULL)",
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
TRACE_SPANS_POSTGRES_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE trace_spans ALTER COLUMN attributes TYPE JSONB USING attributes::jsonb",
    "CREATE INDEX ix_trace_spans_attributes ON trace_spans USING gin (attributes jsonb_path_ops)",
    *TRACE_SPAN_TEXT_POSTGRES_DDL,
)
TRACE_SPANS_SQLITE_DDL = (
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

# Every MySQL/MariaDB table: utf8mb4_bin, so keys, names and LIKE compare case-sensitively as on the
# other databases (the default ``*_ci`` collation would make param ``LR`` collide with ``lr``).
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}


class Ddl:
    """What one database family adds to the portable schema, and how schema changes run on it."""

    # The dialect names of the family (SQLAlchemy's ``dialect.name``).
    dialects: ClassVar[tuple[str, ...]] = ()
    # DDL inside a transaction (a half-created schema rolls back); MySQL commits each statement.
    transactional: ClassVar[bool] = True
    _declared: ClassVar[bool] = False

    def prepare(self, metadata: MetaData) -> None:
        """Before ``create_all`` on this family: its indexes (declared once per process) and options."""
        cls = type(self)
        if not cls._declared:
            cls._declared = True
            for dialect in self.dialects:
                self.declare_indexes(dialect)

    def declare_indexes(self, dialect: str) -> None:
        """The family's own indexes, emitted only on ``dialect`` (``ddl_if``)."""

    def relax_timeouts(self, conn: Connection) -> None:
        """Schema changes may rebuild indexes of big tables: no request timeout for them."""


class SqliteDdl(Ddl):
    dialects = ("sqlite",)

    def declare_indexes(self, dialect: str) -> None:
        for table in (s.params, s.tags):
            Index(f"ix_{table.name}_key_value", table.c.key, table.c.value).ddl_if(dialect=dialect)
        _covering_latest_metrics_index(dialect)
        _chart_strides(dialect, include=False)
        _after_trace_spans(TRACE_SPANS_SQLITE_DDL, dialect)


class MysqlDdl(Ddl):
    dialects = ("mysql", "mariadb")
    transactional = False

    def prepare(self, metadata: MetaData) -> None:
        super().prepare(metadata)
        for table in metadata.tables.values():
            for option, value in MYSQL_TABLE_OPTIONS.items():
                table.dialect_kwargs[option] = value

    def declare_indexes(self, dialect: str) -> None:
        for table in (s.params, s.tags):
            Index(
                f"ix_{table.name}_key_value", table.c.key, table.c.value, mysql_length={"value": 255}
            ).ddl_if(dialect=dialect)
        _covering_latest_metrics_index(dialect)


class PostgresDdl(Ddl):
    dialects = ("postgresql",)

    def declare_indexes(self, dialect: str) -> None:
        for table in (s.params, s.tags):
            hashed = Index(f"ix_{table.name}_value_hash", table.c.value, postgresql_using="hash")
            hashed.ddl_if(dialect=dialect)
            # Key-leading lookups (the hash index above matches a value under any key).
            Index(f"ix_{table.name}_key_run_uuid", table.c.key, table.c.run_uuid).ddl_if(dialect=dialect)
            statistics = DDL(KEY_VALUE_STATISTICS[f"st_{table.name}_key_value"])  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", statistics.execute_if(dialect=dialect))
        # Ordering by a metric: a LEFT JOIN on (run_uuid, key) served index-only (migration 0002).
        t = s.latest_metrics
        Index(
            "ix_latest_metrics_key_run_uuid", t.c.key, t.c.run_uuid, postgresql_include=["value", "is_nan"]
        ).ddl_if(dialect=dialect)
        step_blocks = DDL(STEP_BLOCKS_DDL)  # type: ignore[no-untyped-call]
        event.listen(s.metrics, "after_create", step_blocks.execute_if(dialect=dialect))
        _chart_strides(dialect, include=True)
        _after_trace_spans(TRACE_SPANS_POSTGRES_DDL, dialect)

    def relax_timeouts(self, conn: Connection) -> None:
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SET LOCAL lock_timeout = 0"))


def _after_trace_spans(statements: tuple[str, ...], dialect: str) -> None:
    from runstash_metadata.tracing.schema import trace_spans

    for statement in statements:
        event.listen(trace_spans, "after_create", DDL(statement).execute_if(dialect=dialect))  # type: ignore[no-untyped-call]


def _chart_strides(dialect: str, *, include: bool) -> None:
    for stride in CHART_STRIDES:
        # DDL() formats its text with %: the modulo is written %%.
        statement = DDL(chart_stride_index(stride, include=include).replace("%", "%%"))  # type: ignore[no-untyped-call]
        event.listen(s.metrics, "after_create", statement.execute_if(dialect=dialect))


def _covering_latest_metrics_index(dialect: str) -> None:
    """Ordering by a metric: (run_uuid, key) with the value, where there is no INCLUDE (migration 0002)."""
    t = s.latest_metrics
    covering = Index("ix_latest_metrics_key_run_uuid", t.c.key, t.c.run_uuid, t.c.value, t.c.is_nan)
    covering.ddl_if(dialect=dialect)


_FAMILIES: tuple[Ddl, ...] = (SqliteDdl(), PostgresDdl(), MysqlDdl())
_BY_DIALECT = {dialect: family for family in _FAMILIES for dialect in family.dialects}


def ddl_for(dialect_name: str) -> Ddl:
    """The DDL companion of the database family SQLAlchemy's ``dialect.name`` belongs to."""
    try:
        return _BY_DIALECT[dialect_name]
    except KeyError:
        raise ValueError(f"Unsupported database: {dialect_name}") from None
