"""The trace analytics RPCs (QueryTraceMetrics, CalculateTraceFilterCorrelation): request checks as
MLflow's handlers make them, then one read-only statement each (metrics.py, correlation.py)."""

from __future__ import annotations

import math

from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import invalid_parameter

from runstash_metadata.store.database import Database
from runstash_metadata.tracing import correlation, metrics, metrics_spec


def _experiments(ids: list[str]) -> list[int]:
    if not ids:
        raise invalid_parameter("Missing value for required parameter 'experiment_ids'.")
    out = []
    for value in ids:
        if not value.isdigit():
            raise invalid_parameter(
                f"Invalid value {value!r} for parameter 'experiment_ids': not an experiment id."
            )
        out.append(int(value))
    return out


def _required(
    request: pb.QueryTraceMetrics | pb.CalculateTraceFilterCorrelation, names: tuple[str, ...]
) -> None:
    for name in names:
        if not request.HasField(name) or getattr(request, name) == "":  # type: ignore[arg-type]
            raise invalid_parameter(f"Missing value for required parameter '{name}'.")


def metrics_request(request: pb.QueryTraceMetrics) -> metrics.Request:
    experiments = _experiments(list(request.experiment_ids))
    _required(request, ("view_type", "metric_name"))
    if not request.aggregations:
        raise invalid_parameter("Missing value for required parameter 'aggregations'.")
    view = pb.QueryTraceMetrics.MetricViewType.Name(request.view_type)
    aggregations = metrics_spec.aggregations(list(request.aggregations))
    metrics_spec.validate(view, request.metric_name, aggregations, list(request.dimensions))
    parsed = metrics.Request(
        experiments=experiments,
        view=view,
        metric=request.metric_name,
        aggregations=aggregations,
        dimensions=list(dict.fromkeys(request.dimensions)),
        filters=[metrics_spec.parse_filter(f) for f in request.filters],
        interval_s=request.time_interval_seconds if request.HasField("time_interval_seconds") else None,
        start_ms=request.start_time_ms if request.HasField("start_time_ms") else None,
        end_ms=request.end_time_ms if request.HasField("end_time_ms") else None,
        max_results=request.max_results,
        offset=metrics.page_offset(request.page_token),
    )
    metrics.check_window(parsed)
    return parsed


def query_trace_metrics(db: Database, request: pb.QueryTraceMetrics) -> pb.QueryTraceMetrics.Response:
    parsed = metrics_request(request)
    with db.reader() as conn:
        points, token = metrics.run(conn, db.q, parsed)
    response = pb.QueryTraceMetrics.Response(data_points=points)
    if token:
        response.next_page_token = token
    return response


def filter_correlation(
    db: Database, request: pb.CalculateTraceFilterCorrelation
) -> pb.CalculateTraceFilterCorrelation.Response:
    experiments = _experiments(list(request.experiment_ids))
    _required(request, ("filter_string1", "filter_string2"))
    with db.reader() as conn:
        found = correlation.counts(
            conn,
            db.q,
            experiments,
            (request.filter_string1, request.filter_string2),
            request.base_filter or None,
        )
    plain, smoothed = correlation.npmi(found)
    response = pb.CalculateTraceFilterCorrelation.Response(
        filter1_count=found.filter1,
        filter2_count=found.filter2,
        joint_count=found.joint,
        total_count=found.total,
    )
    # An undefined NPMI (a filter matching nothing) is left out, as MLflow leaves it out.
    if not math.isnan(plain):
        response.npmi = plain
    if not math.isnan(smoothed):
        response.npmi_smoothed = smoothed
    return response
