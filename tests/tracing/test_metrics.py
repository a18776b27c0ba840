"""QueryTraceMetrics and CalculateTraceFilterCorrelation over REST, on every database and deployment:
five traces sent as OTLP spans (known latencies, days, statuses, names, sessions, token usage,
costs, models) and a few assessments, then every view, aggregation, dimension, time bucket, filter,
page token and error case, checked against values computed here by hand."""

from __future__ import annotations

import json
import math
import os
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

if TYPE_CHECKING:
    from tests.tracing.conftest import TraceServer

DAY_MS = 86_400_000
T0_MS = 1_700_006_400_000 - 1_700_006_400_000 % DAY_MS  # midnight UTC
# (day, root latency ms, status ERROR?, root name, session, model)
TRACES = [
    (0, 100, False, "agent", "s1", "gpt-x"),
    (0, 200, False, "agent", "s1", "claude"),
    (1, 300, False, "agent", "s1", "gpt-x"),
    (1, 400, False, "chat", "s2", "claude"),
    (2, 1000, True, "chat", None, "gpt-x"),
]
METRICS = "/api/3.0/mlflow/traces/metrics"
CORRELATION = "/ajax-api/3.0/mlflow/traces/calculate-filter-correlation"


def _attr(key: str, value: object) -> common_pb2.KeyValue:
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=json.dumps(value)))


def _trace(i: int) -> tuple[str, list[trace_pb2.Span]]:
    day, latency, error, name, session, model = TRACES[i]
    trace_id, root_id = os.urandom(16), os.urandom(8)
    start_ns = (T0_MS + day * DAY_MS + i * 1000) * 1_000_000
    root_attrs = [_attr("mlflow.spanType", "AGENT")] + ([_attr("session.id", session)] if session else [])
    code = trace_pb2.Status.STATUS_CODE_ERROR if error else trace_pb2.Status.STATUS_CODE_OK
    root = trace_pb2.Span(
        trace_id=trace_id,
        span_id=root_id,
        name=name,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + latency * 1_000_000,
        attributes=root_attrs,
        status=trace_pb2.Status(code=code),
    )
    usage = {"input_tokens": 10 * (i + 1), "output_tokens": 5, "total_tokens": 10 * (i + 1) + 5}
    cost = {"input_cost": 0.01 * (i + 1), "output_cost": 0.002, "total_cost": 0.01 * (i + 1) + 0.002}
    llm = trace_pb2.Span(
        trace_id=trace_id,
        span_id=os.urandom(8),
        parent_span_id=root_id,
        name="llm",
        start_time_unix_nano=start_ns + 10_000_000,
        end_time_unix_nano=start_ns + 60_000_000,
        attributes=[
            _attr("mlflow.spanType", "LLM"),
            _attr("mlflow.chat.tokenUsage", usage),
            _attr("mlflow.llm.cost", cost),
            _attr("mlflow.llm.model", model),
        ],
        status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_OK),
    )
    return "tr-" + trace_id.hex(), [root, llm]


@pytest.fixture(scope="module")
def experiment(trace_server: TraceServer) -> dict[str, Any]:
    url = trace_server.url
    created = httpx.post(
        f"{url}/api/2.0/mlflow/experiments/create", json={"name": f"m-{uuid.uuid4().hex[:8]}"}
    )
    eid = str(created.json()["experiment_id"])
    ids, spans = [], []
    for i in range(len(TRACES)):
        trace_id, pair = _trace(i)
        ids.append(trace_id)
        spans += pair
    body = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    ).SerializeToString()
    headers = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": eid}
    httpx.post(f"{url}/v1/traces", content=body, headers=headers).raise_for_status()
    for trace_id, name, value in (
        (ids[0], "relevance", True),
        (ids[1], "relevance", False),
        (ids[2], "score", 0.5),
    ):
        assessment = {"trace_id": trace_id, "assessment_name": name, "feedback": {"value": value}}
        assessment["source"] = {"source_type": "HUMAN", "source_id": "t"}
        path = f"{url}/api/3.0/mlflow/traces/{trace_id}/assessments"
        httpx.post(path, json={"assessment": assessment}).raise_for_status()
    return {"url": url, "eid": eid, "ids": ids}


def _query(exp: dict[str, Any], **body: Any) -> httpx.Response:
    return httpx.post(f"{exp['url']}{METRICS}", json={"experiment_ids": [exp["eid"]], **body})


def _points(exp: dict[str, Any], **body: Any) -> list[dict[str, Any]]:
    response = _query(exp, **body)
    assert response.status_code == 200, response.text
    return list(response.json().get("data_points", []))


def _by(points: list[dict[str, Any]], dimension: str, key: str) -> dict[str, float]:
    return {p["dimensions"][dimension]: p["values"][key] for p in points}


def _agg(kind: str, p: float | None = None) -> dict[str, Any]:
    return {"aggregation_type": kind} | ({"percentile_value": p} if p is not None else {})


def test_trace_counts_latency_and_sessions(experiment: dict[str, Any]) -> None:
    [total] = _points(experiment, view_type="TRACES", metric_name="trace_count", aggregations=[_agg("COUNT")])
    assert total == {"metric_name": "trace_count", "values": {"COUNT": 5}}
    by_status = _points(
        experiment,
        view_type="TRACES",
        metric_name="trace_count",
        aggregations=[_agg("COUNT")],
        dimensions=["trace_status"],
    )
    assert _by(by_status, "trace_status", "COUNT") == {"ERROR": 1, "OK": 4}
    [latency] = _points(
        experiment,
        view_type="TRACES",
        metric_name="latency",
        aggregations=[_agg("AVG"), _agg("MIN"), _agg("MAX"), _agg("PERCENTILE", 50), _agg("PERCENTILE", 95)],
    )
    # numpy's linear percentile of [100, 200, 300, 400, 1000]: p95 sits at 3.8 -> 400 + 0.8 * 600.
    assert latency["values"] == pytest.approx(
        {"AVG": 400, "MIN": 100, "MAX": 1000, "P50.0": 300, "P95.0": 880}
    )
    by_name = _points(
        experiment,
        view_type="TRACES",
        metric_name="latency",
        aggregations=[_agg("PERCENTILE", 50)],
        dimensions=["trace_name"],
    )
    assert _by(by_name, "trace_name", "P50.0") == pytest.approx({"agent": 200, "chat": 700})
    [sessions] = _points(
        experiment, view_type="TRACES", metric_name="session_count", aggregations=[_agg("COUNT")]
    )
    assert sessions["values"]["COUNT"] == 2


def test_daily_buckets(experiment: dict[str, Any]) -> None:
    points = _points(
        experiment,
        view_type="TRACES",
        metric_name="trace_count",
        aggregations=[_agg("COUNT")],
        time_interval_seconds=86_400,
        start_time_ms=T0_MS,
        end_time_ms=T0_MS + 3 * DAY_MS,
    )
    day = [datetime.fromtimestamp((T0_MS + d * DAY_MS) / 1000, tz=UTC).isoformat() for d in range(3)]
    assert [(p["dimensions"]["time_bucket"], p["values"]["COUNT"]) for p in points] == list(
        zip(day, [2, 2, 1], strict=True)
    )
    one_day = _points(
        experiment,
        view_type="TRACES",
        metric_name="latency",
        aggregations=[_agg("MAX")],
        start_time_ms=T0_MS + DAY_MS,
        end_time_ms=T0_MS + 2 * DAY_MS - 1,
    )
    assert one_day[0]["values"]["MAX"] == 400


def test_tokens_spans_costs(experiment: dict[str, Any]) -> None:
    [tokens] = _points(
        experiment, view_type="TRACES", metric_name="input_tokens", aggregations=[_agg("SUM"), _agg("MAX")]
    )
    assert tokens["values"] == {"SUM": 150, "MAX": 50}
    spans = _points(
        experiment,
        view_type="SPANS",
        metric_name="span_count",
        aggregations=[_agg("COUNT")],
        dimensions=["span_type"],
    )
    assert _by(spans, "span_type", "COUNT") == {"AGENT": 5, "LLM": 5}
    llm = _points(
        experiment,
        view_type="SPANS",
        metric_name="latency",
        aggregations=[_agg("AVG")],
        filters=["span.type = 'LLM'"],
    )
    assert llm[0]["values"]["AVG"] == 50
    costs = _points(
        experiment,
        view_type="SPANS",
        metric_name="total_cost",
        aggregations=[_agg("SUM")],
        dimensions=["span_model_name"],
    )
    assert _by(costs, "span_model_name", "SUM") == pytest.approx({"claude": 0.064, "gpt-x": 0.096})


def test_assessments_and_filters(experiment: dict[str, Any]) -> None:
    counts = _points(
        experiment,
        view_type="ASSESSMENTS",
        metric_name="assessment_count",
        aggregations=[_agg("COUNT")],
        dimensions=["assessment_name", "assessment_value"],
    )
    assert {(p["dimensions"]["assessment_name"], p["dimensions"]["assessment_value"]) for p in counts} == {
        ("relevance", "true"),
        ("relevance", "false"),
        ("score", "0.5"),
    }
    values = _points(
        experiment,
        view_type="ASSESSMENTS",
        metric_name="assessment_value",
        aggregations=[_agg("AVG")],
        dimensions=["assessment_name"],
    )
    assert _by(values, "assessment_name", "AVG") == {"relevance": 0.5, "score": 0.5}
    ok = _points(
        experiment,
        view_type="TRACES",
        metric_name="trace_count",
        aggregations=[_agg("COUNT")],
        filters=["trace.status = 'OK'"],
    )
    assert ok[0]["values"]["COUNT"] == 4
    chat = _points(
        experiment,
        view_type="TRACES",
        metric_name="trace_count",
        aggregations=[_agg("COUNT")],
        filters=["trace.tag.`mlflow.traceName` = 'chat'", "trace.metadata.`mlflow.trace.session` = 's2'"],
    )
    assert chat[0]["values"]["COUNT"] == 1


def test_pages(experiment: dict[str, Any]) -> None:
    body = {
        "view_type": "TRACES",
        "metric_name": "trace_count",
        "aggregations": [_agg("COUNT")],
        "dimensions": ["trace_name"],
        "max_results": 1,
    }
    first = _query(experiment, **body).json()
    assert [p["dimensions"]["trace_name"] for p in first["data_points"]] == ["agent"]
    second = _query(experiment, **body, page_token=first["next_page_token"]).json()
    assert [p["dimensions"]["trace_name"] for p in second["data_points"]] == ["chat"]
    assert "next_page_token" not in second


@pytest.mark.parametrize(
    "body",
    [
        {"view_type": "TRACES", "metric_name": "nope", "aggregations": [_agg("COUNT")]},
        {"view_type": "TRACES", "metric_name": "trace_count", "aggregations": [_agg("AVG")]},
        {
            "view_type": "TRACES",
            "metric_name": "latency",
            "aggregations": [_agg("AVG")],
            "dimensions": ["span_name"],
        },
        {"view_type": "TRACES", "metric_name": "latency", "aggregations": [_agg("PERCENTILE")]},
        {"view_type": "TRACES", "metric_name": "latency", "aggregations": [_agg("PERCENTILE", 120)]},
        {
            "view_type": "TRACES",
            "metric_name": "latency",
            "aggregations": [_agg("AVG")],
            "time_interval_seconds": 60,
        },
        {
            "view_type": "TRACES",
            "metric_name": "trace_count",
            "aggregations": [_agg("COUNT")],
            "filters": ["span.name = 'x'"],
        },
        {
            "view_type": "TRACES",
            "metric_name": "trace_count",
            "aggregations": [_agg("COUNT")],
            "filters": ["trace.status != 'x'"],
        },
        {"view_type": "TRACES", "metric_name": "trace_count", "aggregations": []},
        {"metric_name": "trace_count", "aggregations": [_agg("COUNT")]},
    ],
)
def test_bad_requests_are_400(experiment: dict[str, Any], body: dict[str, Any]) -> None:
    response = _query(experiment, **body)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def _npmi(n11: int, f1: int, f2: int, n: int, s: float) -> float:
    a, b, c = n11 + s, f1 - n11 + s, f2 - n11 + s
    d = n - f1 - f2 + n11 + s
    total = a + b + c + d
    return (math.log(a * total / ((a + b) * (a + c)))) / -math.log(a / total)


def test_filter_correlation(experiment: dict[str, Any]) -> None:
    body = {
        "experiment_ids": [experiment["eid"]],
        "filter_string1": "trace.name = 'chat'",
        "filter_string2": "trace.status = 'ERROR'",
    }
    found = httpx.post(f"{experiment['url']}{CORRELATION}", json=body).json()
    assert (found["filter1_count"], found["filter2_count"], found["joint_count"], found["total_count"]) == (
        2,
        1,
        1,
        5,
    )
    assert found["npmi"] == pytest.approx(_npmi(1, 2, 1, 5, 0))
    assert found["npmi_smoothed"] == pytest.approx(_npmi(1, 2, 1, 5, 0.5))
    spans = {**body, "filter_string2": "span.type = 'LLM'", "base_filter": "trace.status = 'OK'"}
    within = httpx.post(f"{experiment['url']}{CORRELATION}", json=spans).json()
    assert (
        within["filter1_count"],
        within["filter2_count"],
        within["joint_count"],
        within["total_count"],
    ) == (1, 4, 1, 4)
    never = {**body, "filter_string2": "trace.name = 'agent'"}
    assert httpx.post(f"{experiment['url']}{CORRELATION}", json=never).json()["npmi"] == -1.0
    missing = httpx.post(f"{experiment['url']}{CORRELATION}", json={**body, "filter_string2": ""})
    assert missing.status_code == 400
    assert missing.json()["error_code"] == "INVALID_PARAMETER_VALUE"
