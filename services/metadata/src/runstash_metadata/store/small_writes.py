"""Single-point writes (log-metric, set-tag, log-param) through group commit.

Each call is one :class:`SmallWrite`; concurrent calls, across runs, are written by one
transaction (see :mod:`.group_commit`): one run-state check for every run of the group, one
multi-row statement per table, one commit. On PostgreSQL a group of metric points is a single
statement (run check, points and latest-metric upsert as data-modifying CTEs over unnest arrays).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runstash_protos.errors import RunstashError, invalid_parameter, not_found
from sqlalchemy import Connection, Engine, bindparam, select, text, update

from runstash_metadata.store import schema as s
from runstash_metadata.store.dialect import Dialect
from runstash_metadata.store.group_commit import GroupCommit, Outcome
from runstash_metadata.store.values import PARAM_VALUE_MAX, RUN_NAME_TAG, TAG_VALUE_MAX, stored_value

# (key, value, timestamp, step) of one metric point, value as given (NaN/inf mapped on write).
PointTuple = tuple[str, float, int, int]


@dataclass(frozen=True, slots=True)
class SmallWrite:
    """One caller's write: exactly one of ``point``, ``tag`` (key, value), ``param`` (key, value)."""

    run_id: str
    point: PointTuple | None = None
    tag: tuple[str, str] | None = None
    param: tuple[str, str] | None = None


def run_state_error(run_id: str, stage: str | None) -> RunstashError | None:
    """The error for writing to a run in ``stage`` (None: the run does not exist)."""
    if stage is None:
        return not_found(f"Run with id={run_id} not found")
    if stage != s.ACTIVE:
        return invalid_parameter(f"The run {run_id} must be in the 'active' state. Current state is {stage}.")
    return None


def _metric_rows(
    writes: Sequence[SmallWrite],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(metric rows, latest_metrics rows) in table column order, each sorted by key so that
    concurrent transactions take row locks in one global order (no deadlocks)."""
    points: dict[tuple[str, str, int, int, float, bool], None] = {}
    latest: dict[tuple[str, str], tuple[int, int, float, bool]] = {}
    for w in writes:
        assert w.point is not None
        key, raw, timestamp, step = w.point
        value, is_nan = stored_value(raw)
        points[(w.run_id, key, step, timestamp, value, is_nan)] = None
        current = latest.get((w.run_id, key))
        if current is None or (step, timestamp, value) > current[:3]:
            latest[(w.run_id, key)] = (step, timestamp, value, is_nan)
    # metrics / latest_metrics columns: run_uuid, key, value, is_nan, timestamp, step
    metric_rows = [(r, k, v, nan, ts, st) for (r, k, st, ts, v, nan) in sorted(points)]
    latest_rows = [(r, k, v, nan, ts, st) for (r, k), (st, ts, v, nan) in sorted(latest.items())]
    return metric_rows, latest_rows


def _columns(rows: list[tuple[Any, ...]], names: Sequence[str], prefix: str = "") -> dict[str, list[Any]]:
    """Rows transposed into one list per column (PostgreSQL array parameters)."""
    return {f"{prefix}{name}": list(col) for name, col in zip(names, zip(*rows, strict=True), strict=True)}


_METRIC_COLUMNS = ("run_uuid", "key", "value", "is_nan", "timestamp", "step")


class SmallWriter:
    """Group-committed log-metric / set-tag / log-param for one store."""

    def __init__(self, engine: Engine, dialect: Dialect) -> None:
        self._engine = engine
        self._dialect = dialect
        self._group: GroupCommit[SmallWrite] = GroupCommit(self._write_group)
        r = s.runs.c
        self._q_stages = select(r.run_uuid, r.lifecycle_stage).where(
            r.run_uuid.in_(bindparam("ids", expanding=True))
        )
        self._insert_metrics = dialect.bulk_insert_ignore(
            s.metrics, ["run_uuid", "key", "step", "timestamp", "value", "is_nan"]
        )
        self._upsert_latest = dialect.bulk_upsert_if_greater(
            s.latest_metrics, ["run_uuid", "key"], ["step", "timestamp", "value"], ["is_nan"]
        )
        self._u_tags = dialect.upsert(s.tags, ["run_uuid", "key"], ["value"])
        self._i_params = dialect.insert_ignore(s.params, ["run_uuid", "key"])
        p = s.params.c
        self._q_params = select(p.run_uuid, p.key, p.value).where(
            p.run_uuid.in_(bindparam("ids", expanding=True)), p.key.in_(bindparam("keys", expanding=True))
        )
        self._pg_points = self._pg_points_statement() if dialect.name == "postgresql" else None

    def _pg_points_statement(self) -> Any:
        d = self._dialect
        names, points = d.unnest_select(s.metrics, _METRIC_COLUMNS, prefix="p_")
        _, latest = d.unnest_select(s.latest_metrics, _METRIC_COLUMNS, prefix="l_")
        live = "u_run_uuid IN (SELECT run_uuid FROM run WHERE lifecycle_stage = 'active')"
        return text(
            "WITH run AS (SELECT run_uuid, lifecycle_stage FROM runs "
            "WHERE run_uuid = ANY(CAST(:ids AS VARCHAR(32)[]))), "
            f"point AS (INSERT INTO metrics ({names}) {points} WHERE {live} "
            'ON CONFLICT (run_uuid, key, step, "timestamp", value, is_nan) DO NOTHING), '
            f"latest AS (INSERT INTO latest_metrics AS t ({names}) {latest} WHERE {live} "
            "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, "
            'is_nan = excluded.is_nan, "timestamp" = excluded."timestamp", step = excluded.step '
            'WHERE (t.step, t."timestamp", t.value) < (excluded.step, excluded."timestamp", excluded.value)) '
            "SELECT run_uuid, lifecycle_stage FROM run"
        )

    # ------------------------------------------------------------------ entry points

    def log_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        self._group.submit(SmallWrite(run_id, point=(key, value, timestamp, step)))

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._group.submit(SmallWrite(run_id, tag=(key, value[:TAG_VALUE_MAX])))

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self._group.submit(SmallWrite(run_id, param=(key, value[:PARAM_VALUE_MAX])))

    # ------------------------------------------------------------------ one group

    def _write_group(self, writes: Sequence[SmallWrite]) -> list[Outcome]:
        run_ids = sorted({w.run_id for w in writes})
        with self._engine.begin() as conn:
            if self._pg_points is not None and all(w.point is not None for w in writes):
                metric_rows, latest_rows = _metric_rows(writes)
                params = {
                    "ids": run_ids,
                    **_columns(metric_rows, _METRIC_COLUMNS, "p_"),
                    **_columns(latest_rows, _METRIC_COLUMNS, "l_"),
                }
                stages = dict(conn.execute(self._pg_points, params).all())
                return [run_state_error(w.run_id, stages.get(w.run_id)) for w in writes]
            stages = dict(conn.execute(self._q_stages, {"ids": run_ids}).all())
            outcomes: list[Outcome] = [run_state_error(w.run_id, stages.get(w.run_id)) for w in writes]
            live = [w for w, error in zip(writes, outcomes, strict=True) if error is None]
            points = [w for w in live if w.point is not None]
            if points:
                metric_rows, latest_rows = _metric_rows(points)
                self._insert_metrics(conn, metric_rows)
                self._upsert_latest(conn, latest_rows)
            tags = [w for w in live if w.tag is not None]
            if tags:
                self._write_tags(conn, tags)
            if any(w.param is not None for w in live):
                param_errors = self._write_params(conn, [w for w in live if w.param is not None])
                outcomes = [param_errors.get(id(w), o) for w, o in zip(writes, outcomes, strict=True)]
            return outcomes

    def _write_tags(self, conn: Connection, writes: Sequence[SmallWrite]) -> None:
        latest: dict[tuple[str, str], str] = {}
        for w in writes:  # arrival order: the last write of a key wins, as if one after another
            assert w.tag is not None
            latest[(w.run_id, w.tag[0])] = w.tag[1]
        conn.execute(
            self._u_tags, [{"run_uuid": r, "key": k, "value": v} for (r, k), v in sorted(latest.items())]
        )
        for (run_id, key), value in sorted(latest.items()):
            if key == RUN_NAME_TAG:
                conn.execute(update(s.runs).where(s.runs.c.run_uuid == run_id).values(name=value))

    def _write_params(self, conn: Connection, writes: Sequence[SmallWrite]) -> dict[int, Outcome]:
        """Insert new params (the first write of a key wins); a write whose value differs from
        the stored one gets MLflow's error, keyed by ``id(write)``."""
        first: dict[tuple[str, str], str] = {}
        for w in writes:
            assert w.param is not None
            first.setdefault((w.run_id, w.param[0]), w.param[1])
        conn.execute(
            self._i_params, [{"run_uuid": r, "key": k, "value": v} for (r, k), v in sorted(first.items())]
        )
        stored = {
            (r, k): v
            for r, k, v in conn.execute(
                self._q_params,
                {"ids": sorted({r for r, _ in first}), "keys": sorted({k for _, k in first})},
            )
        }
        errors: dict[int, Outcome] = {}
        for w in writes:
            assert w.param is not None
            key, value = w.param
            old = stored[(w.run_id, key)]
            if old != value:
                errors[id(w)] = invalid_parameter(
                    f"Changing param values is not allowed. Param with key='{key}' was already logged "
                    f"with value='{old}' for run ID='{w.run_id}'. Attempted logging new value '{value}'."
                )
        return errors
