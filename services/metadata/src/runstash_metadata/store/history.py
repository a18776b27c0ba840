"""Metric history reads: full/paged history, bulk history and the sampled bulk-interval read.

Bulk-interval never reads a whole history: per run, the step bounds come from two index seeks,
then the sample is read by one of three statements depending on how the steps are spread:

* many more steps than the sample holds: index probes at ``max_results`` evenly spaced step
  values (one array parameter or a few IN lists, as ``Queries.any_of`` has it);
* a few times more steps than the sample holds: one range scan over [lo, hi] keeping the rows
  whose step is one of those evenly spaced values (an arithmetic test, no probe per point);
* fewer steps than the sample holds: ROW_NUMBER/COUNT windows over that small range.

All three give the same points: the even sample of the (step, timestamp, value) order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)

from runstash_metadata.store import schema as s
from runstash_metadata.store.hydration import plain_rows
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import (
    decode_offset_token,
    encode_offset_token,
    loaded_value,
)

# A range scan reads index entries in order (cheap) where a probe descends the index (several
# times dearer): with up to this many steps per sampled point, scanning the range wins.
RANGE_SCAN_FACTOR = 8


def _even_steps(lo: int, hi: int, count: int) -> list[int]:
    """``count`` step values spread evenly over [lo, hi], both ends included."""
    if count == 1:
        return [lo]
    span = hi - lo
    return sorted({lo + (i * span) // (count - 1) for i in range(count)})


def _even_sample(rows: Sequence[Any], count: int) -> list[Any]:
    """At most ``count`` rows evenly spread over ``rows``, first and last kept."""
    n = len(rows)
    if n <= count:
        return list(rows)
    if count == 1:
        return [rows[0]]
    return [rows[(i * (n - 1)) // (count - 1)] for i in range(count)]


def _window_sample_statement() -> Any:
    """The even sample of one run's points within [lo, hi], computed in SQL.

    With rn the 0-based position over (step, timestamp, value) and n the count, row rn is kept
    when ``floor(rn*k/(n-1))`` steps up from ``floor((rn-1)*k/(n-1))`` (k = m - 1): that keeps
    exactly m rows, positions 0 and n-1 included.
    """
    m = s.metrics.c
    order = (m.step, m.timestamp, m.value)
    numbered = (
        select(
            m.step,
            m.timestamp,
            m.value,
            m.is_nan,
            (func.row_number().over(order_by=order) - 1).label("rn"),
            func.count().over().label("n"),
        )
        .where(
            m.run_uuid == bindparam("rid"),
            m.key == bindparam("key"),
            m.step.between(bindparam("lo"), bindparam("hi")),
        )
        .subquery()
    )
    rn, n = numbered.c.rn, numbered.c.n
    k = bindparam("m", type_=Integer) - 1
    keep = or_(n <= bindparam("m", type_=Integer), rn == 0, (rn * k) // (n - 1) > ((rn - 1) * k) // (n - 1))
    return (
        select(numbered.c.step, numbered.c.timestamp, numbered.c.value, numbered.c.is_nan)
        .where(keep)
        .order_by(numbered.c.step, numbered.c.timestamp, numbered.c.value)
    )


def _range_sample_statement() -> Any:
    """One run's points in [lo, hi] whose step is one of ``_even_steps(lo, hi, k + 1)``.

    With d = step - lo and span = hi - lo > k, the targets are floor(i*span/k), strictly
    increasing in i; d is one of them iff i = ceil(d*k/span) satisfies i*span < (d+1)*k.
    """
    m = s.metrics.c
    d = m.step - bindparam("lo", type_=BigInteger)
    k = bindparam("k", type_=BigInteger)
    span = bindparam("span", type_=BigInteger)
    is_target = ((d * k + span - 1) // span) * span < (d + 1) * k
    return (
        select(m.step, m.timestamp, m.value, m.is_nan)
        .where(
            m.run_uuid == bindparam("rid"),
            m.key == bindparam("key"),
            m.step.between(bindparam("lo", type_=BigInteger), bindparam("hi", type_=BigInteger)),
            is_target,
        )
        .order_by(m.step, m.timestamp, m.value)
    )


@dataclass(frozen=True, slots=True)
class _Statements:
    points_at_steps: Any
    range_sample: Any
    window_sample: Any


@cache
def _statements(q: Queries) -> _Statements:
    m = s.metrics.c
    points_at_steps = (
        select(m.step, m.timestamp, m.value, m.is_nan)
        .where(m.run_uuid == bindparam("rid"), m.key == bindparam("key"), q.any_of(m.step, "steps", "BIGINT"))
        .order_by(m.step, m.timestamp, m.value)
    )
    return _Statements(points_at_steps, _range_sample_statement(), _window_sample_statement())


def _points_at_steps(conn: Connection, q: Queries, run_id: str, key: str, targets: list[int]) -> list[Any]:
    statement = _statements(q).points_at_steps
    rows: list[Any] = []
    for chunk in q.groups(targets, q.probe_chunk):
        params = {"rid": run_id, "key": key, "steps": q.number_list(chunk)}
        rows.extend(plain_rows(conn, statement, params))
    return rows


def get_metric_history(
    conn: Connection,
    run_id: str,
    key: str,
    max_results: int | None = None,
    page_token: str | None = None,
    *,
    out: Any = None,
) -> tuple[Sequence[pb.Metric], str | None]:
    """A run's points of ``key`` in (timestamp, step, value) order, paged by offset tokens;
    added in place to ``out`` (a response's repeated field) when given."""
    m = s.metrics.c
    offset = decode_offset_token(page_token)
    stmt = (
        select(m.value, m.is_nan, m.timestamp, m.step)
        .where(m.run_uuid == run_id, m.key == key)
        .order_by(m.timestamp, m.step, m.value)
    )
    if max_results is not None:
        stmt = stmt.limit(max_results + 1).offset(offset)
    elif offset:
        stmt = stmt.offset(offset)
    rows = plain_rows(conn, stmt, {})
    token = None
    if max_results is not None and len(rows) > max_results:
        del rows[max_results:]
        token = encode_offset_token(offset + max_results)
    container = pb.GetMetricHistory.Response().metrics if out is None else out
    add = container.add
    nan = math.nan
    for value, is_nan, timestamp, step in rows:
        add(key=key, value=nan if is_nan else value, timestamp=timestamp, step=step)
    return (container if out is not None else list(container)), token


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
    """Per run, up to ``max_results`` points evenly spread over the (step, timestamp, value)
    order with the first and last always kept; runs in request order (repeats repeated).

    See the module docstring for how the sample is read (a long history is dense in steps,
    so points at evenly spaced steps are the even sample of the sequence). The points are
    added to ``out`` (a response's repeated field: building in place is 2-3x cheaper than
    building messages and copying them into the response) and returned.
    """
    container = pb.GetMetricHistoryBulkInterval.Response().metrics if out is None else out
    unique_ids = list(dict.fromkeys(run_ids))
    if not unique_ids or max_results < 1:
        return container if out is not None else []
    lo_bound = start_step if start_step is not None and end_step is not None else None
    hi_bound = end_step if lo_bound is not None else None
    per_run: dict[str, list[Any]] = {}
    bounds = _step_bounds(conn, unique_ids, key, lo_bound, hi_bound)
    for run_id, (lo, hi) in bounds.items():
        per_run[run_id] = _sample(conn, q, run_id, key, bounds=(lo, hi), count=max_results)
    add = container.add
    nan = math.nan
    for run_id in run_ids:
        for step, timestamp, value, is_nan in per_run.get(run_id, ()):
            add(key=key, value=nan if is_nan else value, timestamp=timestamp, step=step, run_id=run_id)
    return container if out is not None else list(container)


def _sample(
    conn: Connection, q: Queries, run_id: str, key: str, *, bounds: tuple[int, int], count: int
) -> list[Any]:
    """(step, timestamp, value, is_nan) rows: the even sample of the run's points in [lo, hi]."""
    lo, hi = bounds
    steps = hi - lo + 1
    if steps > RANGE_SCAN_FACTOR * count:
        targets = _even_steps(lo, hi, count)
        return _even_sample(_points_at_steps(conn, q, run_id, key, targets), count)
    if steps > count:
        params = {"rid": run_id, "key": key, "lo": lo, "hi": hi, "span": hi - lo, "k": count - 1}
        return _even_sample(plain_rows(conn, _statements(q).range_sample, params), count)
    params = {"rid": run_id, "key": key, "lo": lo, "hi": hi, "m": count}
    return plain_rows(conn, _statements(q).window_sample, params)


def _step_bounds(
    conn: Connection, run_ids: Sequence[str], key: str, lo: int | None, hi: int | None
) -> dict[str, tuple[int, int]]:
    """(min step, max step) per run that has the metric; one statement, two seeks per run.

    Separate MIN and MAX subqueries on purpose: SQLite turns a lone MIN/MAX over an index
    prefix into a seek, but scans for a query holding both."""
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
            )
        )
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    bounds: dict[str, tuple[int, int]] = {}
    for i, first, last in conn.execute(stmt):
        if first is not None:
            bounds[run_ids[int(i)]] = (int(first), int(last))
    return bounds


def history_bulk(
    conn: Connection, run_ids: Sequence[str], key: str, max_results: int
) -> list[pb.MetricWithRunId]:
    m = s.metrics.c
    stmt = (
        select(m.run_uuid, m.value, m.is_nan, m.timestamp, m.step)
        .where(m.run_uuid.in_(list(dict.fromkeys(run_ids))), m.key == key)
        .order_by(m.run_uuid, m.timestamp, m.step, m.value)
        .limit(max_results)
    )
    return [
        pb.MetricWithRunId(key=key, value=loaded_value(v, nan), timestamp=ts, step=st, run_id=run_uuid)
        for run_uuid, v, nan, ts, st in conn.execute(stmt)
    ]
