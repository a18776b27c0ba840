"""CalculateTraceFilterCorrelation: how two search filters co-occur over an experiment's traces,
as normalized pointwise mutual information (MLflow's mlflow/store/analytics/trace_correlation.py:
the plain NPMI, -1 when the filters never co-occur, and a Jeffreys-smoothed one).

The four counts come from one statement over ``trace_info`` (the experiment index): each filter
is the search module's condition, evaluated per trace inside conditional sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, case, func, select, true

from runstash_metadata.store.queries import Queries
from runstash_metadata.tracing import search
from runstash_metadata.tracing.grammar import parse
from runstash_metadata.tracing.schema import trace_info

ti = trace_info.c
JEFFREYS_PRIOR = 0.5


@dataclass(frozen=True, slots=True)
class Counts:
    total: int
    filter1: int
    filter2: int
    joint: int


def _matches(q: Queries, filter_string: str, experiments: Sequence[int]) -> ColumnElement[bool]:
    clauses = parse(filter_string)
    if not clauses:
        return true()
    return and_(*(search.condition(q, c, experiments) for c in clauses))


def counts(
    conn: Connection, q: Queries, experiments: Sequence[int], filters: tuple[str, str], base: str | None
) -> Counts:
    filter1, filter2 = filters
    first, second = _matches(q, filter1, experiments), _matches(q, filter2, experiments)

    def hits(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    statement = select(func.count(), hits(first), hits(second), hits(and_(first, second))).where(
        ti.experiment_id.in_(list(experiments))
    )
    if base:
        statement = statement.where(_matches(q, base, experiments))
    full_text = any(c.key in ("text", "content") for f in (filter1, filter2, base or "") for c in parse(f))
    if full_text:
        with q.trace_search_timeout(conn, search.FULL_TEXT_TIMEOUT_MS):
            row = conn.execute(statement).one()
    else:
        row = conn.execute(statement).one()
    return Counts(*(int(v or 0) for v in row))


def npmi(c: Counts) -> tuple[float, float]:
    """(npmi, npmi_smoothed); NaN where undefined (an empty universe or a filter with no trace)."""
    nan = float("nan")
    if c.total <= 0 or c.filter1 == 0 or c.filter2 == 0:
        return nan, nan
    n11, n10, n01 = c.joint, c.filter1 - c.joint, c.filter2 - c.joint
    n00 = c.total - c.filter1 - c.filter2 + c.joint
    if min(n11, n10, n01, n00) < 0:
        return nan, nan
    plain = -1.0 if c.joint == 0 else _core(n11, n10, n01, n00, 0.0)
    return plain, _core(n11, n10, n01, n00, JEFFREYS_PRIOR)


def _core(n11: float, n10: float, n01: float, n00: float, smoothing: float) -> float:
    s11, s10, s01, s00 = (n + smoothing for n in (n11, n10, n01, n00))
    total, first, second = s11 + s10 + s01 + s00, s11 + s10, s11 + s01
    if first <= 0 or second <= 0 or s11 <= 0:
        return float("nan")
    if n10 == 0 and n01 == 0 and n00 == 0:
        return 1.0
    pmi = (math.log(s11) + math.log(total)) - (math.log(first) + math.log(second))
    value = pmi / -(math.log(s11) - math.log(total))
    return max(-1.0, min(1.0, value))
