"""A stock OpenTelemetry SDK exports to runstash over OTLP/HTTP (the gateway's /v1/traces) and
OTLP/gRPC (the services' gRPC port); its spans read back through the stock mlflow client like the
mlflow client's own, with the trace fields the server derives (status, session, user, tokens)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

if TYPE_CHECKING:
    from tests.support.mlflow_client import MlflowClientRunner
    from tests.tracing.conftest import TraceServer

READ_BACK = r"""
import os, mlflow
eid = os.environ["EXPERIMENT_ID"]
found = mlflow.search_traces(locations=[eid], filter_string="span.name = 'fetch'", return_type="list")
out = {"found": [t.info.trace_id for t in found]}
if found:
    trace = mlflow.get_trace(found[0].info.trace_id)
    root = next(s for s in trace.data.spans if s.parent_id is None)
    out.update(
        state=str(trace.info.state.value),
        metadata={k: v for k, v in trace.info.trace_metadata.items() if k.startswith("mlflow.trace.")},
        tags=trace.info.tags,
        spans=sorted(
            (s.name, s.parent_id == root.span_id, s.status.status_code.value) for s in trace.data.spans
        ),
        attribute=next(s for s in trace.data.spans if s.name == "fetch").get_attribute("http.url"),
    )
emit(out)
"""


def _experiment(url: str) -> str:
    response = httpx.post(
        f"{url}/api/2.0/mlflow/experiments/create", json={"name": f"otel-{uuid.uuid4().hex[:8]}"}
    )
    response.raise_for_status()
    return str(response.json()["experiment_id"])


def _emit_trace(exporter: SpanExporter) -> str:
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.tracing")
    with tracer.start_as_current_span("handle-request") as root:
        root.set_attribute("session.id", "otel-session")
        root.set_attribute("user.id", "alice")
        root.set_attribute("mlflow.traceTag.deploy", "canary")
        root.set_attribute(
            "mlflow.chat.tokenUsage", '{"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}'
        )
        with tracer.start_as_current_span("fetch") as child:
            child.set_attribute("http.url", "https://example.test/items")
            child.set_attribute(
                "mlflow.chat.tokenUsage", '{"input_tokens": 6, "output_tokens": 1, "total_tokens": 7}'
            )
        with tracer.start_as_current_span("parse") as failed:
            failed.set_status(Status(StatusCode.ERROR, "bad payload"))
        root.set_status(Status(StatusCode.ERROR, "request failed"))
    trace_id = "tr-" + format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_id


@pytest.mark.timeout(600)
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_otel_sdk_spans_show_up_like_the_clients(
    protocol: str, trace_server: TraceServer, mlflow_client: MlflowClientRunner
) -> None:
    eid = _experiment(trace_server.url)
    exporter: SpanExporter
    if protocol == "http":
        exporter = HttpExporter(
            endpoint=f"{trace_server.url}/v1/traces", headers={"x-mlflow-experiment-id": eid}
        )
    else:
        exporter = GrpcExporter(
            endpoint=trace_server.grpc_address, insecure=True, headers=(("x-mlflow-experiment-id", eid),)
        )
    trace_id = _emit_trace(exporter)
    out: dict[str, Any] = mlflow_client.run(READ_BACK, trace_server.url, env={"EXPERIMENT_ID": eid})
    assert out["found"] == [trace_id]
    assert out["state"] == "ERROR"  # the root span's status
    # A span the SDK gave no status keeps UNSET, as MLflow shows it.
    assert out["spans"] == [
        ["fetch", True, "UNSET"],
        ["handle-request", False, "ERROR"],
        ["parse", True, "ERROR"],
    ]
    assert out["attribute"] == "https://example.test/items"
    assert out["tags"]["deploy"] == "canary"
    assert out["tags"]["service.name"] == "checkout"  # resource attributes become tags
    assert out["tags"]["mlflow.traceName"] == "handle-request"
    assert out["metadata"]["mlflow.trace.session"] == "otel-session"
    assert out["metadata"]["mlflow.trace.user"] == "alice"
    # The root's roll-up counts the child's share once.
    assert (
        out["metadata"]["mlflow.trace.tokenUsage"]
        == '{"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}'
    )
