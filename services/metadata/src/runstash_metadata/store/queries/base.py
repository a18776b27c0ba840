"""The query object's common part: what SQLite, PostgreSQL and MySQL/MariaDB write the same way,
and the hooks each database overrides (see :mod:`.sqlite`, :mod:`.postgres`, :mod:`.mysql`).

Every SQL difference between the databases lives in these classes; the store's resource modules
ask ``q`` (the :class:`Queries` of their :class:`~runstash_metadata.store.database.Database`)
instead of branching on the database name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from runstash_protos.errors import ErrorCode, RunstashError
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Table,
    Text,
    bindparam,
    cast,
    event,
    func,
    insert,
    select,
    tuple_,
)
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store import schema as s
from runstash_metadata.store.points import Points
from runstash_metadata.store.values import IN_CHUNK, chunks, join_uri

# A held lock or a hung database must not hold a request (and a pooled connection) without bound:
# statements and lock waits are cancelled server-side, and the caller gets a retryable 503.
STATEMENT_TIMEOUT_MS = 25_000
LOCK_TIMEOUT_MS = 20_000
POOL_TIMEOUT_S = 20
UNAVAILABLE_MESSAGE = "The tracking database is unavailable; retry later."
NUL_MESSAGE = "Strings may not contain NUL characters on this database."

METRIC_KEY = ("run_uuid", "key", "step", "timestamp", "value", "is_nan")
_METRIC_COLUMNS = ("run_uuid", "key", "value", "is_nan", "timestamp", "step")
# The latest-metric rule: a point replaces the stored one when its (step, timestamp, value) is greater.
LATEST_ORDER = ("step", "timestamp", "value")


class Queries:
    """SQL of one database family, built once per :class:`Database` (statements are cached)."""

    name: str = ""
    default_port = 0
    # Statement refreshing the planner statistics of the search tables after growth, if useful.
    analyze_sql: str | None = None
    # The steps of the chart stride indexes this database keeps (``ddl.CHART_STRIDES``), if any.
    chart_strides: tuple[int, ...] = ()
    # Group-committed single writes being written at once (store/group_commit.py): one where
    # writers exclude each other (SQLite) or where concurrent upserts risk deadlocks.
    group_commits_in_flight = 1

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    # ------------------------------------------------------------------ engines

    def create_engines(self) -> tuple[Engine, Engine]:
        """(write engine, read engine); the same engine except where the database wants two."""
        raise NotImplementedError

    def _watch_errors(self, engine: Engine) -> None:
        event.listen(engine, "handle_error", self._domain_errors)

    def _domain_errors(self, ctx: ExceptionContext) -> None:
        """Database failures that are not the request's fault become retryable 503s; a NUL
        character (PostgreSQL cannot store it) becomes a 400 instead of a 500."""
        exc = ctx.original_exception
        if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
            raise RunstashError(ErrorCode.INVALID_PARAMETER_VALUE, NUL_MESSAGE) from exc
        if ctx.is_disconnect or self.is_retryable(exc):
            raise RunstashError(ErrorCode.TEMPORARILY_UNAVAILABLE, UNAVAILABLE_MESSAGE) from exc

    def is_retryable(self, exc: BaseException) -> bool:
        """Connection failures, cancelled statements (timeouts), lock timeouts and deadlocks."""
        return False

    def missing_database(self, exc: BaseException) -> str | None:
        """If ``exc`` (a driver error met while connecting) says the database the URL names does
        not exist: one line saying which database, on which server. Else None."""
        return None

    def _server(self) -> str:
        url = make_url(self.uri)
        return f"{url.host or 'localhost'}:{url.port or self.default_port}"

    # ------------------------------------------------------------------ statements

    def insert(self, table: Table) -> Any:
        """The database's INSERT construct (with its on-conflict helpers)."""
        raise NotImplementedError

    def _many(self, stmt: Any, table: Table, conflict_columns: Sequence[str]) -> Insert:
        """Hook: how an on-conflict statement runs as one multi-row statement in executemany."""
        return stmt  # type: ignore[no-any-return]

    def insert_ignore(self, table: Table, conflict_columns: Sequence[str]) -> Insert:
        """INSERT that silently skips rows whose ``conflict_columns`` key already exists."""
        stmt = self.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
        return self._many(stmt, table, conflict_columns)

    def upsert(self, table: Table, conflict_columns: Sequence[str], update_columns: Sequence[str]) -> Insert:
        """INSERT that overwrites ``update_columns`` when the key already exists."""
        stmt = self.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict_columns), set_={c: stmt.excluded[c] for c in update_columns}
        )
        return self._many(stmt, table, conflict_columns)

    @cached_property
    def latest_metric_upsert(self) -> Insert:
        """THE latest-metric upsert: replace the row only when the new (step, timestamp, value)
        is greater, compared lexicographically."""
        t = s.latest_metrics
        stmt = self.insert(t)
        excluded = stmt.excluded
        greater = tuple_(*(t.c[c] for c in LATEST_ORDER)) < tuple_(*(excluded[c] for c in LATEST_ORDER))
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_uuid", "key"],
            set_={c: excluded[c] for c in (*LATEST_ORDER, "is_nan")},
            where=greater,
        )
        return self._many(stmt, t, ["run_uuid", "key"])

    @cached_property
    def _insert_points(self) -> Insert:
        return self.insert_ignore(s.metrics, METRIC_KEY)

    @cached_property
    def tag_upsert(self) -> Insert:
        return self.upsert(s.tags, ["run_uuid", "key"], ["value"])

    @cached_property
    def param_insert(self) -> Insert:
        return self.insert_ignore(s.params, ["run_uuid", "key"])

    # ------------------------------------------------------------------ metric points

    def write_points(self, conn: Connection, points: Points, *, dedupe: bool = False) -> None:
        """Insert the points (existing ones skipped) and apply them to the latest metrics.

        Databases that insert optimistically raise :class:`~..points.DuplicatePoints` when
        ``dedupe`` is false and a point exists; the caller then retries with ``dedupe``.
        """
        metric_rows, latest_rows = points.rows()
        conn.execute(
            self._insert_points, [dict(zip(_METRIC_COLUMNS, row, strict=True)) for row in metric_rows]
        )
        conn.execute(
            self.latest_metric_upsert, [dict(zip(_METRIC_COLUMNS, row, strict=True)) for row in latest_rows]
        )

    def load_points(self, conn: Connection, points: Points) -> None:
        """:meth:`write_points` without ``dedupe`` by the database's bulk-load path, where it has
        one (PostgreSQL's COPY): the ingest stream's large groups of one run's points."""
        self.write_points(conn, points)

    @cached_property
    def _run_stages(self) -> Any:
        r = s.runs.c
        return select(r.run_uuid, r.lifecycle_stage).where(r.run_uuid.in_(bindparam("ids", expanding=True)))

    def run_stages(self, conn: Connection, run_ids: Sequence[str]) -> dict[str, str]:
        return {row[0]: row[1] for row in conn.execute(self._run_stages, {"ids": list(run_ids)})}

    def write_live_points(self, conn: Connection, run_ids: Sequence[str], points: Points) -> dict[str, str]:
        """Write the points of the active runs among ``run_ids``; return every found run's stage."""
        stages = self.run_stages(conn, run_ids)
        each = points.run_of_each()
        keep = [i for i, run in enumerate(each) if stages.get(run) == s.ACTIVE]
        if keep:
            live = Points(
                [each[i] for i in keep],
                [points.keys[i] for i in keep],
                [points.values[i] for i in keep],
                [points.nans[i] for i in keep],
                [points.timestamps[i] for i in keep],
                [points.steps[i] for i in keep],
            )
            self.write_points(conn, live, dedupe=True)
        return stages

    # ------------------------------------------------------------------ step blocks

    def step_blocks(
        self, conn: Connection, run_ids: Sequence[str], key: str, edges: tuple[int, int] | None
    ) -> list[tuple[str, int, int, int, str | None]] | None:
        """The step blocks (``queries.ddl.STEP_BLOCKS_DDL``) of ``key`` in the runs, within the block
        range ``edges`` if given, as (run, block, points, distinct steps, bitmap text of a
        not-full edge block or None), ordered by run and block; None where the database keeps
        no step blocks."""
        return None

    def delete_step_blocks(self, conn: Connection, run_ids: Sequence[str]) -> None:
        """Forget the runs' step blocks (their points are being deleted): no-op where none are kept."""

    def step_block_bits(
        self, conn: Connection, key: str, wanted: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], str]:
        """The bitmap text ('0101...', character i = step block * 1024 + i) of each (run, block)."""
        raise NotImplementedError

    def history_blocks(self, conn: Connection, run_id: str, key: str) -> list[tuple[int, int]] | None:
        """(step block, points) of the history in block order when its (timestamp, step, value)
        order goes block by block (each block's timestamps at or after the previous block's);
        None when it does not or the database keeps no step blocks."""
        return None

    def points_at_steps(
        self, conn: Connection, key: str, wanted: Sequence[tuple[str, int]]
    ) -> list[tuple[int, int, int, float, bool]]:
        """The points of ``key`` at the (run, step) pairs (1-based pair index, step, timestamp,
        value, is_nan), in the pairs' order; a step holding several points gives them all."""
        raise NotImplementedError

    # ------------------------------------------------------------------ runs and params

    @cached_property
    def _experiment_state(self) -> Any:
        e = s.experiments.c
        return select(e.lifecycle_stage, e.artifact_location).where(e.experiment_id == bindparam("eid"))

    def insert_run(
        self, conn: Connection, values: Mapping[str, Any], tags: Mapping[str, str]
    ) -> Row[Any] | None:
        """Create the run (``values``: rid, name, eid, user_id, start_time) and its tags if its
        experiment is active; return the experiment's (lifecycle_stage, artifact_location), None
        when it does not exist."""
        exp = conn.execute(self._experiment_state, {"eid": values["eid"]}).first()
        if exp is None or exp.lifecycle_stage != s.ACTIVE:
            return exp
        conn.execute(
            insert(s.runs).values(
                run_uuid=values["rid"],
                name=values["name"],
                experiment_id=values["eid"],
                user_id=values["user_id"],
                status="RUNNING",
                start_time=values["start_time"],
                end_time=None,
                lifecycle_stage=s.ACTIVE,
                artifact_uri=join_uri(exp.artifact_location or "", values["rid"], "artifacts"),
            )
        )
        rows = [{"run_uuid": values["rid"], "key": k, "value": v} for k, v in tags.items()]
        conn.execute(self.tag_upsert, rows)
        return exp

    def insert_new_params(
        self, conn: Connection, rows: Sequence[tuple[str, str, str]]
    ) -> set[tuple[str, str]] | None:
        """Insert (run id, key, value) rows whose key is new to the run; return the (run id, key)
        pairs inserted, or None where the database cannot tell (the caller compares them all)."""
        conn.execute(self.param_insert, [{"run_uuid": r, "key": k, "value": v} for r, k, v in sorted(rows)])
        return None

    def before_explicit_zero_id(self, conn: Connection) -> None:
        """Prepare ``conn`` for inserting 0 into an auto-increment key (the Default experiment)."""

    def after_explicit_id(self, conn: Connection, table: Table, column: str) -> None:
        """After inserting a given value into an auto-increment key (an import keeping ids): make
        the next generated value follow the largest one stored. SQLite and MySQL do by themselves."""

    # ------------------------------------------------------------------ id lists

    def any_of(self, column: Any, param: str, sql_type: str) -> ColumnElement[bool]:
        """``column`` is one of the list bound as ``param`` (pass :meth:`id_list` values)."""
        return column.in_(bindparam(param, expanding=True))  # type: ignore[no-any-return]

    def id_list(self, items: Sequence[str]) -> Any:
        return list(items)

    def groups(self, items: Sequence[Any], size: int = IN_CHUNK) -> list[Sequence[Any]]:
        """``items`` split into the lists one statement of :meth:`any_of` can take."""
        return list(chunks(items, size))

    # ------------------------------------------------------------------ traces (tracing/search.py)

    # Refreshes the trace tables' planner statistics as they grow (see store/stats.py), if useful.
    trace_analyze_sql: str | None = None

    def span_attribute(self, column: Any, key: str) -> Any:
        """A span attribute's string value (``trace_spans.attributes`` is a flat key -> string object)."""
        return column[key].as_string()

    def span_attribute_equals(self, column: Any, key: str, value: str) -> ColumnElement[bool]:
        return self.span_attribute(column, key) == value  # type: ignore[no-any-return]

    def span_text_match(self, column: Any, pattern: str, *, insensitive: bool) -> ColumnElement[bool]:
        """Spans whose attributes' text matches the LIKE ``pattern`` (full-text search)."""
        body = cast(column, Text)
        if insensitive:
            return func.lower(body).like(func.lower(pattern))
        return body.like(pattern)

    def trace_text_candidates(
        self, trace_id: Any, pattern: str, *, insensitive: bool
    ) -> ColumnElement[bool] | None:
        """A cheap condition on ``trace_id`` true for every trace with a span whose text matches
        the LIKE ``pattern`` (an index lookup, may let others through), or None: no shortcut."""
        return None

    @contextmanager
    def trace_search_timeout(self, conn: Connection, timeout_ms: int) -> Iterator[None]:
        """Bound the statements run inside (the database's own timeout, where it has one)."""
        yield

    def bulk_write(
        self,
        conn: Connection,
        table: Table,
        conflict: Sequence[str],
        update: Sequence[str],
        rows: Sequence[Mapping[str, Any]],
    ) -> None:
        """Insert a batch of rows in as few round trips as the database allows; on a ``conflict``
        key overwrite the ``update`` columns (or skip the row when there are none). The rows must
        not repeat a conflict key."""
        if rows:
            stmt = self.upsert(table, conflict, update) if update else self.insert_ignore(table, conflict)
            conn.execute(stmt, list(rows))

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Plain INSERT of a batch whose keys the caller knows are not stored (no conflict check)."""
        if rows:
            conn.execute(self.insert(table), list(rows))

    def insert_new(
        self, conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]]
    ) -> set[Any] | None:
        """Insert the rows whose ``key`` is not stored yet and return the keys this statement
        inserted; None where one statement cannot tell (the caller looks the keys up instead)."""
        return None
