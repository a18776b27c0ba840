"""Seed traces through the stock mlflow client for the trace browser tests.

Usage: python seed_traces.py <tracking-uri>   (prints one JSON line with the ids it created).

Small traces go through the client's own tracing (`@mlflow.trace`, `mlflow.start_span`,
`log_feedback`, `log_expectation`); the 100-, 1,000- and 30,000-span traces are sent as one
OTLP/HTTP protobuf request each to `/v1/traces`, the route the client's exporter uses.
"""

import json
import os
import secrets
import sys
import time
import urllib.request

import mlflow
from mlflow.entities import AssessmentSource, SpanType
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
OTLP_BATCH = 5000


@mlflow.trace(span_type=SpanType.RETRIEVER)
def retrieve(question: str) -> list[dict]:
    return [{"doc": f"notes about {question}", "score": 0.9}, {"doc": "unrelated", "score": 0.1}]


@mlflow.trace(span_type=SpanType.LLM)
def generate(question: str, docs: list[dict]) -> str:
    span = mlflow.get_current_active_span()
    span.set_attributes(
        {"mlflow.chat.tokenUsage": {"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}}
    )
    return f"answer to {question} from {len(docs)} docs"


@mlflow.trace(name="chat", span_type=SpanType.CHAIN)
def chat(question: str, session: str, user: str) -> str:
    mlflow.update_current_trace(
        tags={"team": "search"},
        metadata={"mlflow.trace.session": session, "mlflow.trace.user": user},
    )
    docs = retrieve(question)
    with mlflow.start_span("postprocess", span_type=SpanType.TOOL) as span:
        span.set_inputs({"n_docs": len(docs)})
        span.set_attributes({"flavour": "vanilla", "nested": {"depth": 2}})
        span.set_outputs({"kept": 1})
    return generate(question, docs)


@mlflow.trace(name="failing-chat", span_type=SpanType.CHAIN)
def failing(question: str) -> str:
    with mlflow.start_span("lookup", span_type=SpanType.TOOL) as span:
        span.set_inputs({"question": question})
        raise ValueError(f"no index for {question!r}")


def last_trace_id() -> str:
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id, "the client recorded no trace"
    return trace_id


def attr(key: str, value: str) -> common_pb2.KeyValue:
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


def wide_trace(name: str, spans: int, fanout: int) -> tuple[trace_pb2.ResourceSpans, str]:
    """A tree of `spans` spans, each parent with up to `fanout` children, laid out in time."""
    trace_id = secrets.token_bytes(16)
    ids = [secrets.token_bytes(8) for _ in range(spans)]
    start = time.time_ns() - spans * 1_000_000
    out = []
    for index in range(spans):
        parent = b"" if index == 0 else ids[(index - 1) // fanout]
        begin = start + index * 500_000
        end = start + spans * 1_000_000 if index == 0 else begin + 400_000 + (index % 7) * 50_000
        span_type = "PARSER" if index % 10 == 3 else "CHAIN" if index % fanout == 0 else "TOOL"
        out.append(
            trace_pb2.Span(
                trace_id=trace_id,
                span_id=ids[index],
                parent_span_id=parent,
                name=name if index == 0 else f"step-{index}",
                kind=trace_pb2.Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=begin,
                end_time_unix_nano=end,
                attributes=[
                    attr("mlflow.spanType", json.dumps(span_type)),
                    attr("mlflow.spanInputs", json.dumps({"step": index, "text": f"input of step {index}"})),
                    attr("mlflow.spanOutputs", json.dumps({"ok": True, "value": index * 2})),
                ],
                status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_OK),
            )
        )
    scope = trace_pb2.ScopeSpans(spans=out)
    resource = trace_pb2.ResourceSpans(scope_spans=[scope])
    resource.resource.attributes.append(attr("service.name", "seed"))
    return resource, "tr-" + trace_id.hex()


def send_otlp(tracking_uri: str, experiment_id: str, name: str, spans: int, fanout: int) -> str:
    """Sends the trace in requests of OTLP_BATCH spans (the exporter batches the same way)."""
    resource, trace_id = wide_trace(name, spans, fanout)
    all_spans = list(resource.scope_spans[0].spans)
    for start in range(0, len(all_spans), OTLP_BATCH):
        part = trace_pb2.ResourceSpans(resource=resource.resource)
        part.scope_spans.add().spans.extend(all_spans[start : start + OTLP_BATCH])
        body = trace_service_pb2.ExportTraceServiceRequest(resource_spans=[part]).SerializeToString()
        request = urllib.request.Request(
            f"{tracking_uri.rstrip('/')}/v1/traces",
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            assert response.status == 200, response.status
    return trace_id


def main() -> None:
    tracking_uri = sys.argv[1]
    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = mlflow.set_experiment(f"traces-e2e-{int(time.time() * 1000)}").experiment_id
    with mlflow.start_run(run_name="traced-run") as run:
        chat("what is runstash?", session="session-a", user="alice")
        first = last_trace_id()
        chat("how fast is it?", session="session-a", user="alice")
        second = last_trace_id()
    chat("where are the docs?", session="session-b", user="bob")
    third = last_trace_id()
    try:
        failing("broken question")
    except ValueError:
        pass
    error = last_trace_id()
    mlflow.flush_trace_async_logging()
    mlflow.log_feedback(
        trace_id=first,
        name="correct",
        value=True,
        rationale="matches the docs",
        source=AssessmentSource(source_type="HUMAN", source_id="alice@example.com"),
    )
    mlflow.log_expectation(trace_id=first, name="expected_answer", value="a tracking server")
    mlflow.log_feedback(trace_id=error, name="correct", value=False, rationale="it crashed")
    big = {n: send_otlp(tracking_uri, experiment_id, f"big-{n}", n, 10) for n in (100, 1000, 30000)}
    print(
        json.dumps(
            {
                "experiment_id": experiment_id,
                "run_id": run.info.run_id,
                "chat_ids": [first, second, third],
                "error_id": error,
                "big": {str(k): v for k, v in big.items()},
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
