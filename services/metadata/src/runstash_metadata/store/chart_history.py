"""The UI's chart data (``GetChartHistories``): several metrics of several runs, each run's history
downsampled to about ``budget`` points, read as short index ranges.

Where the database keeps chart stride indexes (``queries.ddl.CHART_STRIDES``: a partial index per
stride over the points whose step is a multiple of it), a run whose steps in range span S steps is
drawn from the stride nearest S / budget (at least budget / 2 points when its steps are dense),
plus its first and last point in range so a curve starts and ends where the run does. Runs drawn
from one stride share their steps, so a chart's x values line up across runs. This is a display
sample, not MLflow's: ``metrics/get-history-bulk-interval`` keeps MLflow's exact one
(:mod:`.sampled_history`).

A run the strides do not suit goes through that exact sample instead: a short span (fewer than
budget * ``_MIN_STRIDES`` steps, where probing budget points is cheap anyway), steps that rarely
fall on the stride (fewer than budget / ``_SPARSE`` rows, e.g. odd steps only), or many points per
step (more than ``_CROWDED`` * budget rows, e.g. every point at step 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, literal, select, text, union_all

from runstash_metadata.store import sampled_history
from runstash_metadata.store import schema as s
from runstash_metadata.store.queries import Queries

Point = tuple[int, int, float, bool]  # step, timestamp, value, is_nan

_MIN_STRIDES = 32  # below budget * this many steps, the exact sample
_SPARSE = 8
_CROWDED = 4

_STRIDE_READ = """
SELECT run_uuid, step, "timestamp", value, is_nan FROM metrics
WHERE run_uuid IN :runs AND key = :key AND step % {stride} = 0{in_range}
ORDER BY run_uuid, step, "timestamp", value
"""


def _bounds(
    conn: Connection, run_ids: Sequence[str], key: str, start: int | None, end: int | None
) -> dict[str, tuple[int, int]]:
    """Each run's (first step, last step) within the range: two index seeks per run, one statement
    (separate subqueries: SQLite seeks for a lone MIN or MAX, but scans for both in one)."""
    m = s.metrics.c
    parts = []
    for i, run_id in enumerate(run_ids):
        conditions = [m.run_uuid == bindparam(f"r{i}", run_id), m.key == bindparam("key", key)]
        if start is not None and end is not None:
            conditions.append(m.step.between(bindparam("lo", start), bindparam("hi", end)))
        parts.append(
            select(
                literal(i).label("i"),
                select(func.min(m.step)).where(*conditions).scalar_subquery().label("lo"),
                select(func.max(m.step)).where(*conditions).scalar_subquery().label("hi"),
            )
        )
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    return {run_ids[int(i)]: (int(lo), int(hi)) for i, lo, hi in conn.execute(stmt) if lo is not None}


def pick_stride(span: int, budget: int, strides: Sequence[int]) -> int | None:
    """The largest stride leaving at least budget / 2 steps of ``span``; None below budget *
    _MIN_STRIDES steps (the exact sample is cheap there) or when no stride is kept."""
    if span < budget * _MIN_STRIDES:
        return None
    fitting = [stride for stride in strides if span / stride >= budget / 2]
    return max(fitting) if fitting else None


def _stride_rows(
    conn: Connection, runs: list[str], key: str, stride: int, *, start: int | None, end: int | None
) -> dict[str, list[Point]]:
    # The stride is a literal: a partial index is only chosen for its own predicate, never for a
    # bound parameter (PostgreSQL and SQLite alike).
    ranged = start is not None and end is not None
    stmt = text(
        _STRIDE_READ.format(stride=int(stride), in_range=" AND step BETWEEN :lo AND :hi" if ranged else "")
    )
    stmt = stmt.bindparams(bindparam("runs", expanding=True))
    params: dict[str, Any] = {"runs": runs, "key": key, "lo": start, "hi": end}
    found: dict[str, list[Point]] = {run_id: [] for run_id in runs}
    for run_id, step, timestamp, value, is_nan in conn.execute(stmt, params):
        found[run_id].append((step, timestamp, value, bool(is_nan)))
    return found


def _edge_points(conn: Connection, key: str, edges: dict[str, tuple[int, int]]) -> dict[str, list[Point]]:
    """Each run's points at its first and last step in range (one statement)."""
    m = s.metrics.c
    parts = [
        select(m.run_uuid, m.step, m.timestamp, m.value, m.is_nan).where(
            m.run_uuid == run_id, m.key == key, m.step.in_(sorted({lo, hi}))
        )
        for run_id, (lo, hi) in edges.items()
    ]
    found: dict[str, list[Point]] = {run_id: [] for run_id in edges}
    if parts:
        stmt = parts[0] if len(parts) == 1 else union_all(*parts)
        for run_id, step, timestamp, value, is_nan in conn.execute(stmt):
            found[run_id].append((step, timestamp, value, bool(is_nan)))
    return found


def _exact(
    conn: Connection,
    q: Queries,
    runs: list[str],
    key: str,
    budget: int,
    *,
    start: int | None,
    end: int | None,
) -> dict[str, list[Point]]:
    found: dict[str, list[Point]] = {run_id: [] for run_id in runs}
    if runs:
        for p in sampled_history.bulk_interval(conn, q, runs, key, budget, start, end):
            found[p.run_id].append((p.step, p.timestamp, p.value, math.isnan(p.value)))
    return found


def key_series(  # noqa: PLR0917 - the request's fields
    conn: Connection,
    q: Queries,
    run_ids: Sequence[str],
    key: str,
    budget: int,
    start: int | None = None,
    end: int | None = None,
) -> dict[str, list[Point]]:
    """Each run's chart points of ``key`` (runs without the key are left out), in step order."""
    unique = list(dict.fromkeys(run_ids))
    bounds = _bounds(conn, unique, key, start, end) if unique else {}
    by_stride: dict[int, list[str]] = {}
    exact: list[str] = []
    for run_id, (lo, hi) in bounds.items():
        stride = pick_stride(hi - lo + 1, budget, q.chart_strides)
        (exact if stride is None else by_stride.setdefault(stride, [])).append(run_id)
    found: dict[str, list[Point]] = {}
    for stride, runs in by_stride.items():
        for run_id, rows in _stride_rows(conn, runs, key, stride, start=start, end=end).items():
            if budget / _SPARSE <= len(rows) <= budget * _CROWDED:
                found[run_id] = rows
            else:
                exact.append(run_id)
    edges = _edge_points(conn, key, {run_id: bounds[run_id] for run_id in found})
    for run_id, points in edges.items():
        found[run_id] = sorted(set(found[run_id]) | set(points))
    found.update(_exact(conn, q, exact, key, budget, start=start, end=end))
    return {run_id: found[run_id] for run_id in unique if found.get(run_id)}


def columns(points: Sequence[Point]) -> dict[str, list[Any]]:
    """A series' points as the response's columns (NaN where the point is NaN)."""
    nan = math.nan
    return {
        "steps": [p[0] for p in points],
        "timestamps": [p[1] for p in points],
        "values": [nan if p[3] else p[2] for p in points],
    }
