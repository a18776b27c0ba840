"""The stock mlflow client traces a small app against runstash (spans over OTLP/HTTP, TraceInfo
over the v3 routes), logs feedback and an expectation, and reads everything back through
``mlflow.get_trace`` / ``mlflow.search_traces``: on every selected database and deployment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.tracing.app_script import TRACED_APP

if TYPE_CHECKING:
    from tests.support.mlflow_client import MlflowClientRunner
    from tests.tracing.conftest import TraceServer


@pytest.fixture(scope="module")
def traced(trace_server: TraceServer, mlflow_client: MlflowClientRunner) -> dict[str, Any]:
    result: dict[str, Any] = mlflow_client.run(TRACED_APP, trace_server.url, timeout=300)
    return result


@pytest.mark.timeout(600)
def test_trace_info_is_derived_and_merged(traced: dict[str, Any]) -> None:
    info = traced["info"]
    assert info["state"] == "OK"
    assert info["tags"]["team"] == "search"
    assert info["tags"]["mlflow.traceName"] == "agent"
    # Spans are in the tracking store: the client must not upload traces.json as well.
    assert info["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert info["metadata"]["mlflow.trace.session"] == "session-1"
    assert info["request_preview"] == '{"question": "what is runstash"}'
    # The outputs' JSON text, quotes included (MLflow's preview of a string output).
    assert info["response_preview"] == '"answer to what is runstash"'
    assert info["duration_ok"] is True
    # The chat span's roll-up (7/5/12) already counts its provider call (3/2/5): not added twice.
    assert info["metadata"]["mlflow.trace.tokenUsage"] == (
        '{"input_tokens": 7, "output_tokens": 5, "total_tokens": 12}'
    )
    assert info["assessments"] == [["expected_answer", "an answer"], ["relevance", True]]


@pytest.mark.timeout(600)
def test_spans_round_trip_with_tree_types_status_and_exception(traced: dict[str, Any]) -> None:
    spans = traced["spans"]
    assert set(spans) == {"agent", "retrieve", "lookup", "broken", "chat", "provider-call"}
    assert {name for name, s in spans.items() if s["parent_is_root"]} == {
        "retrieve",
        "lookup",
        "broken",
        "chat",
    }
    assert traced["provider_parent_is_chat"] is True
    assert spans["retrieve"]["type"] == "RETRIEVER"
    assert spans["lookup"]["type"] == "TOOL"
    assert spans["chat"]["type"] == "LLM"
    assert spans["broken"]["status"] == "ERROR"
    assert spans["broken"]["events"] == ["exception"]
    assert traced["exception"] == ["boom in broken"]
    assert {s["status"] for n, s in spans.items() if n != "broken"} == {"OK"}
    assert traced["retrieve"] == {
        "inputs": {"query": "what is runstash"},
        "outputs": ["doc-a", "doc-b"],
        "k": 3,
    }


@pytest.mark.timeout(600)
def test_search_filters_order_and_pages(traced: dict[str, Any]) -> None:
    first, second = traced["trace_id"], traced["second_id"]
    search = traced["search"]
    assert search["all"] == sorted([first, second])
    for key in (
        "span_name",
        "span_type",
        "span_status",
        "span_attribute",
        "tag",
        "metadata",
        "text",
        "feedback",
    ):
        assert search[key] == [first], key
    assert search["no_span"] == []
    assert search["name"] == [second]
    assert search["status"] == sorted([first, second])
    assert search["duration"] == sorted([first, second])
    assert traced["df"] == {"rows": 2, "first": first, "spans_of_first": 6}
    assert traced["paged"] == [1, True]


@pytest.mark.timeout(600)
def test_tags_assessments_deletes_and_errors(traced: dict[str, Any]) -> None:
    assert traced["tag_set"] == "yes"
    assert traced["tag_deleted"] is True
    assert traced["updated_value"] is False
    assert traced["after_delete"] == ["relevance"]
    assert traced["deleted"] == 1
    assert traced["after_trace_delete"] == [traced["trace_id"]]
    assert traced["missing_trace"]["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert traced["bad_filter"]["error_code"] == "INVALID_PARAMETER_VALUE"
