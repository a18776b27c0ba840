"""The stock client's side of the trace tests: a small traced app, feedback, and the reads back
(run by the mlflow client venv; `emit` reports to the test)."""

TRACED_APP = r"""
import mlflow
from mlflow import MlflowClient

exp = mlflow.set_experiment("traced-app")
out = {"experiment_id": exp.experiment_id}


@mlflow.trace(span_type="TOOL")
def lookup(x):
    return x * 2


@mlflow.trace(span_type="LLM")
def chat(question):
    span = mlflow.get_current_active_span()
    span.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 7, "output_tokens": 5, "total_tokens": 12})
    with mlflow.start_span(name="provider-call", span_type="LLM") as inner:
        # A child reporting its own share: the parent's roll-up already counts it.
        usage = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
        inner.set_attribute("mlflow.chat.tokenUsage", usage)
    return "answer to " + question


@mlflow.trace
def broken():
    raise ValueError("boom in broken")


@mlflow.trace(name="agent")
def agent(question):
    mlflow.update_current_trace(tags={"team": "search"}, metadata={"mlflow.trace.session": "session-1"})
    with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as span:
        span.set_inputs({"query": question})
        span.set_attribute("retriever.k", 3)
        span.set_outputs(["doc-a", "doc-b"])
    lookup(21)
    try:
        broken()
    except ValueError:
        pass
    return chat(question)


agent("what is runstash")
mlflow.flush_trace_async_logging()
trace_id = mlflow.get_last_active_trace_id()

@mlflow.trace(name="second")
def second():
    return 1

second()
mlflow.flush_trace_async_logging()
second_id = mlflow.get_last_active_trace_id()

feedback = mlflow.log_feedback(trace_id=trace_id, name="relevance", value=True, rationale="on topic")
expectation = mlflow.log_expectation(trace_id=trace_id, name="expected_answer", value="an answer")

trace = mlflow.get_trace(trace_id)
info = trace.info
out["info"] = {
    "state": str(info.state.value if hasattr(info.state, "value") else info.state),
    "tags": info.tags,
    "metadata": info.trace_metadata,
    "request_preview": info.request_preview,
    "response_preview": info.response_preview,
    "assessments": sorted([a.name, a.value] for a in info.assessments),
    "duration_ok": info.execution_duration is not None and info.execution_duration >= 0,
}
by_name = {s.name: s for s in trace.data.spans}
root = by_name["agent"]
out["spans"] = {
    s.name: {
        "type": s.span_type,
        "status": s.status.status_code.value,
        "parent_is_root": s.parent_id == root.span_id,
        "events": [e.name for e in s.events],
    }
    for s in trace.data.spans
}
out["retrieve"] = {"inputs": by_name["retrieve"].inputs, "outputs": by_name["retrieve"].outputs,
                   "k": by_name["retrieve"].get_attribute("retriever.k")}
out["provider_parent_is_chat"] = by_name["provider-call"].parent_id == by_name["chat"].span_id
out["exception"] = [e.attributes.get("exception.message") for e in by_name["broken"].events]


def ids(filter_string=None, **kw):
    found = mlflow.search_traces(locations=[exp.experiment_id], filter_string=filter_string,
                                 return_type="list", **kw)
    return sorted(t.info.trace_id for t in found)


out["trace_id"], out["second_id"] = trace_id, second_id
out["search"] = {
    "all": ids(),
    "span_name": ids("span.name = 'retrieve'"),
    "span_type": ids("span.type = 'RETRIEVER'"),
    "span_status": ids("span.status = 'ERROR'"),
    "span_attribute": ids("span.attributes.`retriever.k` = '3'"),
    "no_span": ids("span.name = 'nothing-like-this'"),
    "tag": ids("tags.team = 'search'"),
    "metadata": ids("metadata.`mlflow.trace.session` = 'session-1'"),
    "name": ids("trace.name = 'second'"),
    "status": ids("trace.status = 'OK'"),
    "text": ids("trace.text ILIKE '%runstash%'"),
    "feedback": ids("feedback.relevance = 'true'"),
    "duration": ids("trace.execution_time_ms >= 0"),
}
df = mlflow.search_traces(locations=[exp.experiment_id], order_by=["timestamp_ms ASC"])
out["df"] = {"rows": len(df), "first": df["trace_id"].iloc[0], "spans_of_first": len(df["spans"].iloc[0])}
page = MlflowClient().search_traces(locations=[exp.experiment_id], max_results=1)
out["paged"] = [len(page), bool(page.token)]

client = MlflowClient()
client.set_trace_tag(trace_id, "reviewed", "yes")
out["tag_set"] = mlflow.get_trace(trace_id).info.tags.get("reviewed")
client.delete_trace_tag(trace_id, "reviewed")
out["tag_deleted"] = "reviewed" not in mlflow.get_trace(trace_id).info.tags
out["missing_trace"] = error_of(client.get_trace, "tr-" + "0" * 32)
out["bad_filter"] = error_of(
    mlflow.search_traces, locations=[exp.experiment_id], filter_string="span.nope = 'x'"
)
mlflow.update_assessment(trace_id=trace_id, assessment_id=feedback.assessment_id,
                         assessment=mlflow.entities.Feedback(name="relevance", value=False))
out["updated_value"] = mlflow.get_assessment(trace_id, feedback.assessment_id).value
mlflow.delete_assessment(trace_id, expectation.assessment_id)
out["after_delete"] = sorted(a.name for a in mlflow.get_trace(trace_id).info.assessments)
out["deleted"] = client.delete_traces(exp.experiment_id, trace_ids=[second_id])
out["after_trace_delete"] = ids()
emit(out)
"""
