"""PostgreSQL: array parameters instead of long VALUES/IN lists, and the hot write paths fused
into single statements (data-modifying CTEs), each one round trip.

Arrays travel as array literals (``'{..}'`` strings parsed by the server's array input): a fixed
statement with one parameter per column instead of a 1000-row VALUES list or 5000 bound constants,
which SQLAlchemy would re-render and PostgreSQL re-plan per call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, Table, TextClause, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store.points import DuplicatePoints, Points
from runstash_metadata.store.queries.base import (
    LOCK_TIMEOUT_MS,
    POOL_TIMEOUT_S,
    STATEMENT_TIMEOUT_MS,
    Queries,
)

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
_CREATE_RUN_SQL = text(_CREATE_RUN)
_INSERT_PARAMS_SQL = text(_INSERT_PARAMS)
_DEDUPE = 'ON CONFLICT (run_uuid, key, step, "timestamp", value, is_nan) DO NOTHING'
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
            tail="SELECT run_uuid, lifecycle_stage FROM run" if check_runs else "SELECT 1",
        )
    )


class PostgresQueries(Queries):
    name = "postgresql"
    default_port = 5432
    analyze_sql = "ANALYZE runs, params, tags, latest_metrics"

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

    def write_live_points(self, conn: Connection, run_ids: Sequence[str], points: Points) -> dict[str, str]:
        statement = self._points[(len(points.runs) == 1, True, True)]
        params = {**self._point_params(points), "ids": pg_text_array(run_ids)}
        return {row[0]: row[1] for row in conn.execute(statement, params)}

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


def _quote_element(key: str) -> str:
    """``key`` as one element of a PostgreSQL array literal (always double-quoted)."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_text_array(items: Sequence[str]) -> str:
    quoted = {k: _quote_element(k) for k in set(items)}  # a batch repeats a few keys
    return "{" + ",".join([quoted[k] for k in items]) + "}"


def pg_number_array(items: Sequence[float] | Sequence[int]) -> str:
    # repr() of a float round-trips exactly; PostgreSQL's float8 input reads it back bit for bit.
    return "{" + ",".join(map(repr, items)) + "}"
