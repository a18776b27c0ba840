"""OTLP/HTTP at /v1/traces beyond the happy path: JSON bodies (hex ids) answered in JSON, gzip,
the headers MLflow's route requires, content-type negotiation, the size limit, and batches that
are written whole or not at all."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

if TYPE_CHECKING:
    from tests.tracing.conftest import TraceServer

PROTOBUF = "application/x-protobuf"


def _experiment(url: str) -> str:
    response = httpx.post(
        f"{url}/api/2.0/mlflow/experiments/create", json={"name": f"otlp-{uuid.uuid4().hex[:8]}"}
    )
    response.raise_for_status()
    return str(response.json()["experiment_id"])


def _span(trace_id: bytes, name: str, parent: bytes = b"") -> trace_pb2.Span:
    return trace_pb2.Span(
        trace_id=trace_id,
        span_id=os.urandom(8),
        parent_span_id=parent,
        name=name,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_000_500_000_000,
        attributes=[common_pb2.KeyValue(key="k", value=common_pb2.AnyValue(string_value=name))],
    )


def _request(*spans: trace_pb2.Span) -> bytes:
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=list(spans))])]
    ).SerializeToString()


def _search(url: str, eid: str) -> list[dict[str, Any]]:
    body = {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": eid}}]}
    response = httpx.post(f"{url}/api/3.0/mlflow/traces/search", json=body)
    response.raise_for_status()
    return list(response.json().get("traces", []))


def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{url}/v1/traces", content=body, headers=headers)


@pytest.mark.timeout(300)
def test_protobuf_gzip_and_json_bodies(trace_server: TraceServer) -> None:
    url, eid = trace_server.url, _experiment(trace_server.url)
    first = os.urandom(16)
    response = _post(
        url,
        gzip.compress(_request(_span(first, "root-pb"))),
        {"content-type": PROTOBUF, "content-encoding": "gzip", "x-mlflow-experiment-id": eid},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == PROTOBUF
    assert trace_service_pb2.ExportTraceServiceResponse.FromString(response.content).ByteSize() == 0

    second = os.urandom(16).hex()
    document = {
        "resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": second, "spanId": os.urandom(8).hex(), "name": "root-json", "kind": 1,
            "startTimeUnixNano": "1700000001000000000", "endTimeUnixNano": "1700000001250000000",
            "status": {"code": 2, "message": "failed"},
        }]}]}]
    }  # fmt: skip
    headers = {"content-type": "application/json; charset=utf-8", "x-mlflow-experiment-id": eid}
    response = _post(url, json.dumps(document).encode(), headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    traces = {t["trace_id"]: t for t in _search(url, eid)}
    assert set(traces) == {"tr-" + first.hex(), "tr-" + second}
    assert traces["tr-" + second]["state"] == "ERROR"
    assert traces["tr-" + second]["execution_duration"] == "0.250s"
    assert traces["tr-" + first.hex()]["request_time"] == "2023-11-14T22:13:20Z"


@pytest.mark.timeout(300)
def test_bad_requests_change_nothing(trace_server: TraceServer) -> None:
    url, eid = trace_server.url, _experiment(trace_server.url)
    good = _request(_span(os.urandom(16), "never-stored"))
    cases = [
        (good, {"content-type": PROTOBUF}, 400),  # no x-mlflow-experiment-id
        (good, {"content-type": "text/plain", "x-mlflow-experiment-id": eid}, 400),
        (b"\xff\x00 not protobuf", {"content-type": PROTOBUF, "x-mlflow-experiment-id": eid}, 400),
        (b"{not json", {"content-type": "application/json", "x-mlflow-experiment-id": eid}, 400),
        (good, {"content-type": PROTOBUF, "content-encoding": "br", "x-mlflow-experiment-id": eid}, 400),
        (good, {"content-type": PROTOBUF, "x-mlflow-experiment-id": "987654"}, 404),
        (b"\0" * (21 * 1024 * 1024), {"content-type": PROTOBUF, "x-mlflow-experiment-id": eid}, 413),
    ]
    for body, headers, status in cases:
        response = _post(url, body, headers)
        assert response.status_code == status, (headers, response.text)
        if status != 413:
            assert response.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
    # One malformed span (a 4-byte trace id) sinks its whole batch, the good span included.
    batch = _request(_span(os.urandom(16), "good-one"), _span(b"\x01\x02\x03\x04", "malformed"))
    response = _post(url, batch, {"content-type": PROTOBUF, "x-mlflow-experiment-id": eid})
    assert response.status_code == 400
    assert _search(url, eid) == []


@pytest.mark.timeout(300)
def test_a_trace_stays_in_its_experiment(trace_server: TraceServer) -> None:
    url = trace_server.url
    first, second = _experiment(url), _experiment(url)
    trace_id = os.urandom(16)
    headers = {"content-type": PROTOBUF, "x-mlflow-experiment-id": first}
    assert _post(url, _request(_span(trace_id, "root")), headers).status_code == 200
    moved = _request(_span(trace_id, "child", parent=os.urandom(8)), _span(os.urandom(16), "other"))
    response = _post(url, moved, {"content-type": PROTOBUF, "x-mlflow-experiment-id": second})
    assert response.status_code == 400
    assert _search(url, second) == []
    assert [t["trace_id"] for t in _search(url, first)] == ["tr-" + trace_id.hex()]
