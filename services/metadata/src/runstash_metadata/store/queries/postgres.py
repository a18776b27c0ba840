"""PostgreSQL: array parameters instead of long VALUES/IN lists, and the hot write paths fused
into single statements (data-modifying CTEs), each one round trip.

Arrays travel as array literals (``'{..}'`` strings parsed by the server's array input): a fixed
statement with one parameter per column instead of a 1000-row VALUES list or 5000 bound constants,
which SQLAlchemy would re-render and PostgreSQL re-plan per call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Table,
    Text,
    TextClause,
    cast,
    create_engine,
    text,
    type_coerce,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store.points import DuplicatePoints, Points
from runstash_metadata.store.queries.base import (
    LOCK_TIMEOUT_MS,
    POOL_TIMEOUT_S,
    STATEMENT_TIMEOUT_MS,
)
from runstash_metadata.store.queries.constructs import ByteOrder
from runstash_metadata.store.queries.ddl import CHART_STRIDES, STEP_BLOCK_ROWS
from runstash_metadata.store.queries.pg_traces import PostgresTraceQueries
from runstash_metadata.store.queries.postgres_copy import copy_points

_CREATE_RUN = """
WITH exp AS (SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = :eid),
run AS (
    INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time,
                      lifecycle_stage, artifact_uri)
    SELECT :rid, :name, :eid, :user_id, 'RUNNING', :start_time, NULL, 'active',
           rtrim(coalesce(exp.artifact_location, ''), '/') || '/' || :rid || '/artifacts'
    FROM exp WHERE exp.lifecycle_stage = 'active'
    RETURNING run_uuid
),
tag AS (
    INSERT INTO tags (run_uuid, key, value)
    SELECT run.run_uuid, u.key, u.value
    FROM run, unnest(CAST(:keys AS VARCHAR(250)[]), CAST(:values AS VARCHAR(8000)[])) AS u(key, value)
)
SELECT lifecycle_stage, artifact_location FROM exp
"""

_INSERT_PARAMS = """
INSERT INTO params (run_uuid, key, value)
SELECT u.run_uuid, u.key, u.value
FROM unnest(CAST(:runs AS VARCHAR(32)[]), CAST(:keys AS VARCHAR(250)[]), CAST(:values AS VARCHAR(6000)[]))
    AS u(run_uuid, key, value)
ORDER BY u.run_uuid, u.key
ON CONFLICT (run_uuid, key) DO NOTHING
RETURNING run_uuid, key
"""

# Points inserted (sorted, so concurrent writers lock rows in one order) and applied to the latest
# metrics (DISTINCT ON picks each key's greatest (step, timestamp, value)) in one statement.
# The points go in with a plain INSERT unless deduplicating: ON CONFLICT DO NOTHING costs a
# speculative insertion per row (~30% more server time for a 1000-row batch), and re-sent points
# are rare; a batch that meets one raises and is written again with the conflict clause.
# The step blocks (queries.ddl.STEP_BLOCKS_DDL) take each (run, key, block of 1024 steps) once per
# statement: counts add up and bitmaps OR together under the row lock, so concurrent writers of
# one history stay exact.
_POINTS = """
WITH {run_cte}u AS (
    SELECT {run_select}key, value, is_nan, "timestamp", step FROM unnest(
        {run_array}CAST(:keys AS VARCHAR(250)[]), CAST(:values AS DOUBLE PRECISION[]),
        CAST(:nans AS BOOLEAN[]), CAST(:timestamps AS BIGINT[]), CAST(:steps AS BIGINT[])
    ) AS p({run_alias}key, value, is_nan, "timestamp", step){live}
),
point AS (
    INSERT INTO metrics (run_uuid, key, value, is_nan, "timestamp", step)
    SELECT run_uuid, key, value, is_nan, "timestamp", step FROM u
    ORDER BY run_uuid, key, step, "timestamp", value
    {on_conflict}
),
block AS (
    INSERT INTO metric_step_blocks AS b (run_uuid, key, block, points, steps, min_ts, max_ts)
    {block_rows} ORDER BY 1, 2, 3
    ON CONFLICT (run_uuid, key, block) DO UPDATE SET points = b.points + excluded.points,
        steps = b.steps | excluded.steps,
        min_ts = least(b.min_ts, excluded.min_ts), max_ts = greatest(b.max_ts, excluded.max_ts)
),
latest AS (
    INSERT INTO latest_metrics AS t (run_uuid, key, value, is_nan, "timestamp", step)
    SELECT DISTINCT ON (run_uuid, key) run_uuid, key, value, is_nan, "timestamp", step FROM u
    ORDER BY run_uuid, key, step DESC, "timestamp" DESC, value DESC
    ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
        "timestamp" = excluded."timestamp", step = excluded.step
    WHERE (t.step, t."timestamp", t.value) < (excluded.step, excluded."timestamp", excluded.value)
)
{tail}
"""
_STEP_BLOCKS = """
SELECT run_uuid, block, points, bit_count(steps),
       CASE WHEN points < 1024 AND block IN (:lob, :hib) THEN CAST(steps AS TEXT) END
FROM metric_step_blocks
WHERE run_uuid = ANY(CAST(:runs AS VARCHAR(32)[])) AND key = :key{in_range}
ORDER BY run_uuid, block
"""
_STEP_BLOCKS_SQL = {
    ranged: text(_STEP_BLOCKS.format(in_range=" AND block BETWEEN :lob AND :hib" if ranged else ""))
    for ranged in (False, True)
}
_DELETE_STEP_BLOCKS_SQL = text(
    "DELETE FROM metric_step_blocks WHERE run_uuid = ANY(CAST(:runs AS VARCHAR(32)[]))"
)

_STEP_BLOCK_BITS_SQL = text("""
SELECT b.run_uuid, b.block, CAST(b.steps AS TEXT)
FROM unnest(CAST(:runs AS VARCHAR(32)[]), CAST(:blocks AS BIGINT[])) AS w(run_uuid, block)
JOIN metric_step_blocks AS b ON b.run_uuid = w.run_uuid AND b.key = :key AND b.block = w.block
""")
# Each block's timestamps at or after the previous block's.
_HISTORY_BLOCKS_SQL = text("""
SELECT block, points, coalesce(min_ts >= lag(max_ts) OVER (ORDER BY block), true)
FROM metric_step_blocks WHERE run_uuid = :rid AND key = :key ORDER BY block
""")
# One primary-key probe per wanted point, in the wanted order. The LATERAL subquery (kept apart
# by OFFSET 0) forces the probes: right after a bulk load the planner's row estimate for metrics
# is stale and tiny, and a join would scan the whole table instead.
_POINTS_AT_STEPS_SQL = text("""
SELECT w.i, m.step, m."timestamp", m.value, m.is_nan
FROM unnest(CAST(:runs AS VARCHAR(32)[]), CAST(:steps AS BIGINT[])) WITH ORDINALITY AS w(run_uuid, step, i)
CROSS JOIN LATERAL (
    SELECT step, "timestamp", value, is_nan FROM metrics
    WHERE run_uuid = w.run_uuid AND key = :key AND step = w.step OFFSET 0
) AS m
ORDER BY w.i
""")
_CREATE_RUN_SQL = text(_CREATE_RUN)
_INSERT_PARAMS_SQL = text(_INSERT_PARAMS)
# Deduplicating, only the points really inserted count in the step blocks.
_DEDUPE = (
    'ON CONFLICT (run_uuid, key, step, "timestamp", value, is_nan) DO NOTHING '
    'RETURNING run_uuid, key, step, "timestamp"'
)
_RUN_CHECK = (
    "run AS (SELECT run_uuid, lifecycle_stage FROM runs WHERE run_uuid = ANY(CAST(:ids AS VARCHAR(32)[]))), "
)


def _points_statement(*, one_run: bool, dedupe: bool, check_runs: bool) -> TextClause:
    run = "CAST(:rid AS VARCHAR(32))" if one_run else "run_uuid"
    return text(
        _POINTS.format(
            run_cte=_RUN_CHECK if check_runs else "",
            run_select=f"{run} AS run_uuid, " if one_run else "run_uuid, ",
            run_array="" if one_run else "CAST(:runs AS VARCHAR(32)[]), ",
            run_alias="" if one_run else "run_uuid, ",
            live=f" WHERE {run} IN (SELECT run_uuid FROM run WHERE lifecycle_stage = 'active')"
            if check_runs
            else "",
            on_conflict=_DEDUPE if dedupe else "",
            block_rows=STEP_BLOCK_ROWS.format(source="point" if dedupe else "u"),
            tail="SELECT run_uuid, lifecycle_stage FROM run" if check_runs else "SELECT 1",
        )
    )


class PostgresQueries(PostgresTraceQueries):
    name = "postgresql"
    default_port = 5432
    analyze_sql = "ANALYZE runs, params, tags, latest_metrics"
    chart_strides = CHART_STRIDES
    # Rows are written in one sorted order (no deadlocks); while one group waits for its commit
    # the others' statements run, and PostgreSQL merges their WAL flushes.
    group_commits_in_flight = 4

    def create_engines(self) -> tuple[Engine, Engine]:
        timeouts = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
        engine = create_engine(
            self.uri,
            pool_size=16,
            max_overflow=16,
            pool_recycle=3600,
            pool_pre_ping=False,
            pool_timeout=POOL_TIMEOUT_S,
            connect_args={"options": timeouts},
        )
        self._watch_errors(engine)
        return engine, engine

    def is_retryable(self, exc: BaseException) -> bool:
        import psycopg2

        return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))

    def missing_database(self, exc: BaseException) -> str | None:
        import psycopg2

        database = make_url(self.uri).database
        if isinstance(exc, psycopg2.OperationalError) and f'database "{database}" does not exist' in str(exc):
            return f'The database "{database}" does not exist on the PostgreSQL server {self._server()}.'
        return None

    def insert(self, table: Table) -> Any:
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)

    def _many(self, stmt: Any, table: Table, conflict_columns: Sequence[str]) -> Insert:
        """SQLAlchemy packs an executemany of INSERT .. ON CONFLICT into multi-row statements
        (insertmanyvalues) only when the statement has RETURNING; without it psycopg2 would send
        one statement per row."""
        return stmt.returning(table.c[conflict_columns[0]])  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ metric points

    @cached_property
    def _points(self) -> dict[tuple[bool, bool, bool], TextClause]:
        return {
            (one, dedupe, check): _points_statement(one_run=one, dedupe=dedupe, check_runs=check)
            for one in (True, False)
            for dedupe in (True, False)
            for check in (True, False)
        }

    def _point_params(self, points: Points) -> dict[str, Any]:
        params = {
            "keys": pg_text_array(points.keys),
            "values": pg_number_array(points.values),
            "nans": "{" + ",".join(["t" if n else "f" for n in points.nans]) + "}",
            "timestamps": pg_number_array(points.timestamps),
            "steps": pg_number_array(points.steps),
        }
        if len(points.runs) == 1:
            params["rid"] = points.runs[0]
        else:
            params["runs"] = pg_text_array(points.runs)
        return params

    def write_points(self, conn: Connection, points: Points, *, dedupe: bool = False) -> None:
        statement = self._points[(len(points.runs) == 1, dedupe, False)]
        try:
            conn.execute(statement, self._point_params(points))
        except IntegrityError as exc:
            if dedupe:
                raise
            raise DuplicatePoints from exc

    def load_points(self, conn: Connection, points: Points) -> None:
        copy_points(conn, points, self.latest_metric_upsert)

    def write_live_points(self, conn: Connection, run_ids: Sequence[str], points: Points) -> dict[str, str]:
        statement = self._points[(len(points.runs) == 1, True, True)]
        params = {**self._point_params(points), "ids": pg_text_array(run_ids)}
        return {row[0]: row[1] for row in conn.execute(statement, params)}

    # ------------------------------------------------------------------ step blocks

    def step_blocks(
        self, conn: Connection, run_ids: Sequence[str], key: str, edges: tuple[int, int] | None
    ) -> list[tuple[str, int, int, int, str | None]] | None:
        lob, hib = edges if edges is not None else (None, None)
        params = {"runs": pg_text_array(run_ids), "key": key, "lob": lob, "hib": hib}
        result = conn.execute(_STEP_BLOCKS_SQL[edges is not None], params)
        return list(result.cursor.fetchall())

    def delete_step_blocks(self, conn: Connection, run_ids: Sequence[str]) -> None:
        # A run id can come back (an import keeps ids): stale blocks would skew its samples.
        conn.execute(_DELETE_STEP_BLOCKS_SQL, {"runs": pg_text_array(run_ids)})

    def step_block_bits(
        self, conn: Connection, key: str, wanted: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], str]:
        params = {
            "runs": pg_text_array([r for r, _ in wanted]),
            "blocks": pg_number_array([b for _, b in wanted]),
            "key": key,
        }
        return {(r, int(b)): bits for r, b, bits in conn.execute(_STEP_BLOCK_BITS_SQL, params)}

    def history_blocks(self, conn: Connection, run_id: str, key: str) -> list[tuple[int, int]] | None:
        rows = conn.execute(_HISTORY_BLOCKS_SQL, {"rid": run_id, "key": key}).all()
        if not all(ascending for _, _, ascending in rows):
            return None
        return [(int(block), int(points)) for block, points, _ in rows]

    def points_at_steps(
        self, conn: Connection, key: str, wanted: Sequence[tuple[str, int]]
    ) -> list[tuple[int, int, int, float, bool]]:
        params = {
            "runs": pg_text_array([r for r, _ in wanted]),
            "steps": pg_number_array([step for _, step in wanted]),
            "key": key,
        }
        result = conn.execute(_POINTS_AT_STEPS_SQL, params)
        return list(result.cursor.fetchall())

    # ------------------------------------------------------------------ runs and params

    def insert_run(
        self, conn: Connection, values: Mapping[str, Any], tags: Mapping[str, str]
    ) -> Row[Any] | None:
        """One round trip: experiment check, run row and its tags."""
        arrays = {"keys": pg_text_array(list(tags)), "values": pg_text_array(list(tags.values()))}
        return conn.execute(_CREATE_RUN_SQL, {**values, **arrays}).first()

    def insert_new_params(
        self, conn: Connection, rows: Sequence[tuple[str, str, str]]
    ) -> set[tuple[str, str]] | None:
        ordered = sorted(rows)
        params = {
            "runs": pg_text_array([r for r, _, _ in ordered]),
            "keys": pg_text_array([k for _, k, _ in ordered]),
            "values": pg_text_array([v for _, _, v in ordered]),
        }
        return {(row[0], row[1]) for row in conn.execute(_INSERT_PARAMS_SQL, params)}

    # ------------------------------------------------------------------ id lists

    def after_explicit_id(self, conn: Connection, table: Table, column: str) -> None:
        # A serial column's sequence does not move when a value is given explicitly.
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f"GREATEST((SELECT MAX({column}) FROM {table.name}), 1))"
        )

    def any_of(self, column: Any, param: str, sql_type: str) -> ColumnElement[bool]:
        return text(f"{column.table.name}.{column.name} = ANY(CAST(:{param} AS {sql_type}[]))")  # type: ignore[return-value]

    def id_list(self, items: Sequence[str]) -> Any:
        return pg_text_array(items)

    def groups(self, items: Sequence[Any], size: int = 0) -> list[Sequence[Any]]:
        return [items] if items else []

    # ------------------------------------------------------------------ traces

    trace_analyze_sql = "ANALYZE trace_info, trace_spans"

    def span_attribute(self, column: Any, key: str) -> Any:
        return type_coerce(column, _jsonb())[key].astext

    def span_attribute_equals(self, column: Any, key: str, value: str) -> ColumnElement[bool]:
        # Containment is what the GIN (jsonb_path_ops) index on trace_spans.attributes serves.
        return type_coerce(column, _jsonb()).contains({key: value})

    def span_text_match(self, column: Any, pattern: str, *, insensitive: bool) -> ColumnElement[bool]:
        # The expression of the trigram index ix_trace_spans_attributes_text: (attributes::text).
        body = cast(type_coerce(column, _jsonb()), Text)
        return body.ilike(pattern) if insensitive else body.like(pattern)

    @contextmanager
    def trace_search_timeout(self, conn: Connection, timeout_ms: int) -> Iterator[None]:
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
        try:
            yield
        finally:
            if conn.in_transaction():
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")


def _jsonb() -> Any:
    from sqlalchemy.dialects.postgresql import JSONB

    return JSONB()


def _quote_element(key: str) -> str:
    """``key`` as one element of a PostgreSQL array literal (always double-quoted)."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_text_array(items: Sequence[str]) -> str:
    quoted = {k: _quote_element(k) for k in set(items)}  # a batch repeats a few keys
    return "{" + ",".join([quoted[k] for k in items]) + "}"


def pg_number_array(items: Sequence[float] | Sequence[int]) -> str:
    # repr() of a float round-trips exactly; PostgreSQL's float8 input reads it back bit for bit.
    return "{" + ",".join(map(repr, items)) + "}"


@compiles(ByteOrder, "postgresql")
def _byte_order(element: ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses.clauses[0], **kw)}) COLLATE "C"'
