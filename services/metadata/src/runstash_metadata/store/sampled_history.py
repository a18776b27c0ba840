"""The sampled history of ``metrics/get-history-bulk-interval`` (the UI's charts), as MLflow samples.

Per run, the n points of the key within [start_step, end_step], in (step, timestamp, value,
is_nan) order, are cut into ``max_results`` = m NTILE buckets (the first n % m buckets one point
longer) and the first point of each bucket is kept; the last point of the history then takes the
place of the last kept one, so the first and last points are always there and the sample never
exceeds m. With n <= m every point is returned; with m = 1, only the last.

Reading it: per run, the step bounds (two index seeks) and the point count in one statement for
every run, then one ordered range scan that keeps the sampled positions by arithmetic on the row
number (no window over the whole table, no row per point sent back).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import BigInteger, Connection, and_, bindparam, case, func, literal, or_, select, union_all

from runstash_metadata.store import schema as s
from runstash_metadata.store.hydration import plain_rows
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.step_blocks import plan_sample

_ORDER = ("step", "timestamp", "value", "is_nan")


def sampled_positions(n: int, m: int) -> list[int]:
    """The 0-based positions MLflow's sample keeps of ``n`` ordered points (``m`` >= 1)."""
    if n <= m:
        return list(range(n))
    q, r = divmod(n, m)
    firsts = [b * q + min(b, r) for b in range(m - 1)]
    return [*firsts, n - 1]


@cache
def _range_statements() -> tuple[Any, Any]:
    """(every point in [lo, hi], the sampled points in [lo, hi]) of one run's key, in order."""
    m = s.metrics.c
    in_range = (
        m.run_uuid == bindparam("rid"),
        m.key == bindparam("key"),
        m.step.between(bindparam("lo", type_=BigInteger), bindparam("hi", type_=BigInteger)),
    )
    order = [m[c] for c in _ORDER]
    every = select(m.step, m.timestamp, m.value, m.is_nan).where(*in_range).order_by(*order)
    position = (func.row_number().over(order_by=order) - 1).label("rn")
    numbered = select(m.step, m.timestamp, m.value, m.is_nan, position).where(*in_range).subquery()
    rn = numbered.c.rn
    q = bindparam("q", type_=BigInteger)
    long_part = bindparam("long_part", type_=BigInteger)  # r * (q + 1): the longer buckets' points
    bucket_first = case((rn < long_part, rn % (q + 1) == 0), else_=(rn - long_part) % q == 0)
    keep = or_(rn == bindparam("last", type_=BigInteger), and_(rn < bindparam("last_first"), bucket_first))
    sampled = (
        select(numbered.c.step, numbered.c.timestamp, numbered.c.value, numbered.c.is_nan)
        .where(keep)
        .order_by(*(numbered.c[c] for c in _ORDER))
    )
    return every, sampled


def _bounds_and_counts(
    conn: Connection, run_ids: Sequence[str], key: str, lo: int | None, hi: int | None
) -> dict[str, tuple[int, int, int]]:
    """(min step, max step, point count) in the range per run that has the metric; one
    statement. Separate subqueries on purpose: SQLite turns a lone MIN/MAX over an index prefix
    into a seek, but scans for a query holding both."""
    m = s.metrics.c
    parts = []
    for i, run_id in enumerate(run_ids):
        conditions = [m.run_uuid == bindparam(f"r{i}", run_id), m.key == bindparam("key", key)]
        if lo is not None and hi is not None:
            conditions.append(m.step.between(bindparam("lo", lo), bindparam("hi", hi)))
        parts.append(
            select(
                literal(i).label("i"),
                select(func.min(m.step)).where(*conditions).scalar_subquery().label("lo"),
                select(func.max(m.step)).where(*conditions).scalar_subquery().label("hi"),
                select(func.count()).select_from(s.metrics).where(*conditions).scalar_subquery().label("n"),
            )
        )
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    found: dict[str, tuple[int, int, int]] = {}
    for i, first, last, n in conn.execute(stmt):
        if first is not None:
            found[run_ids[int(i)]] = (int(first), int(last), int(n))
    return found


def _sample(conn: Connection, run_id: str, key: str, found: tuple[int, int, int], m: int) -> list[Any]:
    lo, hi, n = found
    every, sampled = _range_statements()
    params: dict[str, Any] = {"rid": run_id, "key": key, "lo": lo, "hi": hi}
    if n <= m:
        return plain_rows(conn, every, params)
    q, r = divmod(n, m)
    last_first = (m - 1) * q + min(m - 1, r)
    params.update(q=q, long_part=r * (q + 1), last=n - 1, last_first=last_first)
    return plain_rows(conn, sampled, params)


def _points_at_steps(
    conn: Connection, q: Queries, key: str, steps: dict[str, list[int]]
) -> dict[str, list[Any]]:
    """Each run's points at the given steps (each step holds one point), in step order."""
    wanted = [(run_id, step) for run_id, run_steps in steps.items() for step in run_steps]
    found: dict[str, list[Any]] = {run_id: [] for run_id in steps}
    if wanted:
        for i, step, timestamp, value, is_nan in q.points_at_steps(conn, key, wanted):
            found[wanted[int(i) - 1][0]].append((step, timestamp, value, is_nan))
    return found


def bulk_interval(  # noqa: PLR0917 - the RPC's fields, in order
    conn: Connection,
    q: Queries,
    run_ids: Sequence[str],
    key: str,
    max_results: int,
    start_step: int | None = None,
    end_step: int | None = None,
    *,
    out: Any = None,
) -> Sequence[pb.MetricWithRunId]:
    """Per run (in request order, repeats repeated), the sample described in the module
    docstring; added to ``out`` (a response's repeated field, built in place) and returned."""
    container = pb.GetMetricHistoryBulkInterval.Response().metrics if out is None else out
    unique_ids = list(dict.fromkeys(run_ids))
    if not unique_ids or max_results < 1:
        return container if out is not None else []
    lo = start_step if start_step is not None and end_step is not None else None
    hi = end_step if lo is not None else None
    bounds = None if lo is None or hi is None else (lo, hi)
    plan = plan_sample(
        conn, q, unique_ids, key, bounds=bounds, positions=lambda n: sampled_positions(n, max_results)
    )
    scanned = unique_ids if plan is None else plan.scan
    per_run = _points_at_steps(conn, q, key, plan.steps) if plan is not None else {}
    if plan is not None:
        for run_id, found_range in plan.every.items():
            per_run[run_id] = _sample(conn, run_id, key, found_range, max_results)
    if scanned:
        found = _bounds_and_counts(conn, scanned, key, lo, hi)
        per_run.update({run_id: _sample(conn, run_id, key, f, max_results) for run_id, f in found.items()})
    add = container.add
    nan = math.nan
    for run_id in run_ids:
        for step, timestamp, value, is_nan in per_run.get(run_id, ()):
            add(key=key, value=nan if is_nan else value, timestamp=timestamp, step=step, run_id=run_id)
    return container if out is not None else list(container)
