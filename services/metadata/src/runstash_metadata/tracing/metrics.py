"""QueryTraceMetrics in one SQL statement: the view's rows (traces, spans joined to their trace, or
valid assessments joined to their trace) restricted by experiment (indexed), the filters and the
time range, grouped by the time bucket and the dimensions, aggregated by the database.

Percentiles: an ordered-set aggregate where the database has one (store/queries/trace_metrics.py);
elsewhere rows are numbered in a window per group and the outer query interpolates between them
(_interpolated, the same linear interpolation). Results are ordered by the grouping
columns, as MLflow orders them; unlike MLflow (which truncates at max_results), a further page is
offered with an offset page token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import invalid_parameter
from sqlalchemy import ColumnElement, Connection, Select, and_, case, distinct, exists, func, or_, select

from runstash_metadata.search.page_token import decode_offset, encode_offset
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.queries.trace_metrics import metric_expressions
from runstash_metadata.tracing.metrics_spec import (
    ASSESSMENTS,
    COST_METRICS,
    SPANS,
    TIME_BUCKET,
    TOKEN_METRICS,
    TRACES,
    Aggregation,
    MetricFilter,
)
from runstash_metadata.tracing.schema import (
    trace_assessments,
    trace_info,
    trace_request_metadata,
    trace_spans,
    trace_tags,
)

ti, ts, ta = trace_info.c, trace_spans.c, trace_assessments.c
tm, tt = trace_request_metadata.c, trace_tags.c
TOKEN_USAGE_KEY = "mlflow.trace.tokenUsage"
SESSION_KEY = "mlflow.trace.session"
SOURCE_RUN_KEY = "mlflow.sourceRun"
TRACE_NAME_TAG = "mlflow.traceName"
COST_ATTRIBUTE = "mlflow.llm.cost"
NS_PER_MS = 1_000_000


@dataclass
class Request:
    experiments: list[int]
    view: str
    metric: str
    aggregations: list[Aggregation]
    dimensions: list[str]
    filters: list[MetricFilter]
    interval_s: int | None
    start_ms: int | None
    end_ms: int | None
    max_results: int
    offset: int = 0


@dataclass
class Source:
    """One view's rows: what to aggregate, its time, its dimensions, and the row conditions."""

    froms: Any
    value: Any
    time_ms: Any
    dimensions: dict[str, Any]
    where: list[ColumnElement[bool]] = field(default_factory=list)


def _range(column: Any, start: int | None, end: int | None, scale: int = 1) -> list[ColumnElement[bool]]:
    """Inclusive millisecond bounds on ``column`` (in units of ``scale`` per millisecond)."""
    out = []
    if start is not None:
        out.append(column >= start * scale)
    if end is not None:
        out.append(column < (end + 1) * scale if scale > 1 else column <= end)
    return out


def _traces(q: Queries, r: Request) -> Source:
    froms: Any = trace_info
    value: Any = {
        "trace_count": ti.trace_id,
        "session_count": ti.session_id,
        "latency": ti.execution_duration,
    }.get(r.metric)
    if r.metric in TOKEN_METRICS:
        froms = trace_info.join(
            trace_request_metadata, and_(tm.trace_id == ti.trace_id, tm.key == TOKEN_USAGE_KEY)
        )
        value = metric_expressions(q).json_number(tm.value, r.metric)
    source = Source(froms, value, ti.request_time, {"trace_name": ti.name, "trace_status": ti.state})
    source.where += [ti.experiment_id.in_(r.experiments), *_range(ti.request_time, r.start_ms, r.end_ms)]
    return source


def _spans(q: Queries, r: Request) -> Source:
    if r.metric in COST_METRICS:
        value = metric_expressions(q).json_number(q.span_attribute(ts.attributes, COST_ATTRIBUTE), r.metric)
        # Span costs are placed in time by the span's start (MLflow does the same).
        bounds = _range(ts.start_time_ns, r.start_ms, r.end_ms, NS_PER_MS)
    else:
        value = ts.span_id if r.metric == "span_count" else (ts.end_time_ns - ts.start_time_ns) // NS_PER_MS
        bounds = _range(ti.request_time, r.start_ms, r.end_ms)
    dimensions = {
        "span_name": ts.name,
        "span_type": ts.span_type,
        "span_status": ts.status,
        "span_model_name": q.span_attribute(ts.attributes, "mlflow.llm.model"),
        "span_model_provider": q.span_attribute(ts.attributes, "mlflow.llm.provider"),
    }
    froms = trace_spans.join(trace_info, ti.trace_id == ts.trace_id)
    source = Source(froms, value, ts.start_time_ns // NS_PER_MS, dimensions)
    source.where += [ts.experiment_id.in_(r.experiments), *bounds]
    return source


def _assessments(q: Queries, r: Request) -> Source:
    value = (
        ta.assessment_id
        if r.metric == "assessment_count"
        else metric_expressions(q).assessment_number(ta.value)
    )
    dimensions = {
        "assessment_name": ta.name,
        "assessment_value": metric_expressions(q).assessment_json(ta.value),
    }
    froms = trace_assessments.join(trace_info, ti.trace_id == ta.trace_id)
    source = Source(froms, value, ti.request_time, dimensions)
    # Overridden assessments are no longer valid: counting them would count an override chain twice.
    source.where += [ti.experiment_id.in_(r.experiments), ta.valid.is_(True)]
    source.where += _range(ti.request_time, r.start_ms, r.end_ms)
    return source


def _pair_exists(table: Any, key: str, value: str) -> ColumnElement[bool]:
    c = table.c
    return exists(select(c.trace_id).where(c.trace_id == ti.trace_id, c.key == key, c.value == value))


def _trace_filter(f: MetricFilter) -> ColumnElement[bool]:
    if f.entity == "status":
        return ti.state == f.value
    if f.entity == "tag":
        if f.key == TRACE_NAME_TAG:
            return ti.name == f.value
        return _pair_exists(trace_tags, str(f.key), f.value)
    if f.key == SESSION_KEY:
        return ti.session_id == f.value
    found = _pair_exists(trace_request_metadata, str(f.key), f.value)
    # A trace linked to a run afterwards (link-to-run) carries the run in its run_id column.
    return or_(found, ti.run_id == f.value) if f.key == SOURCE_RUN_KEY else found


def filter_condition(f: MetricFilter, view: str) -> ColumnElement[bool]:
    if f.view == "trace":
        return _trace_filter(f)
    if f.view == "span":
        if view != SPANS:
            raise invalid_parameter(f"Filtering by span is only supported for SPANS view type, got {view}")
        return {"name": ts.name, "status": ts.status, "type": ts.span_type}[f.entity] == f.value
    if view != ASSESSMENTS:
        raise invalid_parameter(
            f"Filtering by assessment is only supported for ASSESSMENTS view type, got {view}"
        )
    return {"name": ta.name, "type": ta.kind}[f.entity] == f.value


def _aggregate(agg: Aggregation, value: Any, distinct_values: bool) -> Any:
    if agg.kind == "COUNT":
        return func.count(distinct(value) if distinct_values else value)
    functions: dict[str, Any] = {"SUM": func.sum, "AVG": func.avg, "MIN": func.min, "MAX": func.max}
    return functions[agg.kind](value)


def build(q: Queries, r: Request) -> tuple[Select[Any], list[str]]:
    """The statement and the names of its grouping columns (the first columns of each row)."""
    source = {TRACES: _traces, SPANS: _spans, ASSESSMENTS: _assessments}[r.view](q, r)
    groups: list[tuple[str, Any]] = []
    if r.interval_s:
        bucket_ms = r.interval_s * 1000
        groups.append((TIME_BUCKET, (source.time_ms // bucket_ms) * bucket_ms))
    groups += [(name, source.dimensions[name]) for name in r.dimensions]
    where = [*source.where, *(filter_condition(f, r.view) for f in r.filters)]
    # Rows without a value or a dimension could only make groups MLflow drops: excluded up front,
    # so they use no page slots.
    where += [expr.is_not(None) for _, expr in groups] + [source.value.is_not(None)]
    distinct_values = r.metric == "session_count"
    expressions = metric_expressions(q)
    windowed = not expressions.ordered_set_percentile and any(a.kind == "PERCENTILE" for a in r.aggregations)
    if windowed:
        statement = _windowed(source, groups, where, r.aggregations)
    else:
        columns = [expr.label(name) for name, expr in groups]
        for agg in r.aggregations:
            if agg.kind == "PERCENTILE":
                expr = expressions.percentile(float(agg.percentile or 0) / 100, source.value)
            else:
                expr = _aggregate(agg, source.value, distinct_values)
            columns.append(expr.label(agg.label))
        statement = select(*columns).select_from(source.froms).where(*where)
        if groups:
            statement = statement.group_by(*(expr for _, expr in groups)).order_by(
                *(expr for _, expr in groups)
            )
    return statement.offset(r.offset).limit(r.max_results + 1), [name for name, _ in groups]


def _interpolated(fraction: float, value: Any, rank: Any, count: Any) -> Any:
    """The percentile of a group from rows numbered by a window (``rank`` from 1, ``count`` rows):
    linear interpolation between the rows around position fraction * (count - 1), numpy's default
    and percentile_cont's. Comparisons only, no FLOOR: not every build has math functions."""
    position = (count - 1) * fraction
    k = rank - 1
    at_or_below = and_(k <= position, position < k + 1)
    low = func.max(case((at_or_below, value)))
    high = func.max(case((and_(k >= position, k < position + 1), value)))
    share = func.max(case((at_or_below, position - k)))
    return low + (high - low) * share


def _windowed(
    source: Source, groups: list[tuple[str, Any]], where: list[Any], aggs: list[Aggregation]
) -> Any:
    partition = [expr for _, expr in groups]
    inner = (
        select(
            *(expr.label(name) for name, expr in groups),
            source.value.label("v"),
            func.row_number().over(partition_by=partition, order_by=source.value).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .select_from(source.froms)
        .where(*where)
        .subquery()
    )
    columns = [inner.c[name] for name, _ in groups]
    selected = [*columns]
    for agg in aggs:
        if agg.kind == "PERCENTILE":
            expr = _interpolated(float(agg.percentile or 0) / 100, inner.c.v, inner.c.rn, inner.c.n)
        else:
            expr = _aggregate(agg, inner.c.v, False)
        selected.append(expr.label(agg.label))
    statement = select(*selected).select_from(inner)
    if columns:
        statement = statement.group_by(*columns).order_by(*columns)
    return statement


def _point(row: Any, names: list[str], metric: str, aggs: list[Aggregation]) -> pb.MetricDataPoint | None:
    dimensions = {}
    for i, name in enumerate(names):
        value = row[i]
        if name == TIME_BUCKET:
            value = datetime.fromtimestamp(float(value) / 1000, tz=UTC).isoformat()
        dimensions[name] = str(value)
    values = {a.label: float(v) for a, v in zip(aggs, row[len(names) :], strict=True) if v is not None}
    if not values:
        return None  # MLflow leaves out points whose every aggregation is NULL
    return pb.MetricDataPoint(metric_name=metric, dimensions=dimensions, values=values)


def run(conn: Connection, q: Queries, r: Request) -> tuple[list[pb.MetricDataPoint], str | None]:
    if r.max_results == 0:
        return [], None
    statement, names = build(q, r)
    rows = conn.execute(statement).all()
    more = len(rows) > r.max_results
    points = [_point(row, names, r.metric, r.aggregations) for row in rows[: r.max_results]]
    token = encode_offset(r.offset + r.max_results) if more else None
    return [p for p in points if p is not None], token


def page_offset(token: str | None) -> int:
    return decode_offset(token or None)


def check_window(r: Request) -> None:
    if r.interval_s is not None and r.interval_s <= 0:
        raise invalid_parameter(f"time_interval_seconds must be positive, got {r.interval_s}")
    if r.interval_s and (r.start_ms is None or r.end_ms is None):
        raise invalid_parameter("start_time_ms and end_time_ms are required if time_interval_seconds is set")
    if r.max_results < 0:
        raise invalid_parameter(f"Invalid value {r.max_results} for parameter 'max_results'.")
