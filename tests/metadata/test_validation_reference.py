"""Differential check of request validation against the real `mlflow server` (.venv-mlflow).

Each case sends one JSON request to the reference server and feeds the same JSON, parsed into our
request proto, to our check. When the reference rejects it with a client error, our check must
raise the same error_code and message; when it accepts it (or only fails for lack of the entity,
404), our check must pass. Deliberate divergences (3.18 rules absent from the 3.17 reference,
5xx answers we turn into 400s) are not in this table; the unit tables cover them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from runstash_metadata import validation as v
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError

API = "/api/2.0/mlflow"
LONG = "x" * 251


@dataclass(frozen=True)
class Probe:
    id: str
    method: str
    path: str
    body: dict[str, Any]
    message_type: type[Message]
    check: Callable[[Any], None]
    # GET bodies go to the query string; repeated keys are lists.
    query: bool = field(default=False)


def post(
    id_: str, path: str, body: dict[str, Any], message_type: type[Message], check: Callable[[Any], None]
) -> Probe:
    return Probe(id_, "POST", API + path, body, message_type, check)


def get(
    id_: str, path: str, params: dict[str, Any], message_type: type[Message], check: Callable[[Any], None]
) -> Probe:
    return Probe(id_, "GET", API + path, params, message_type, check, query=True)


def metric(**kw: Any) -> dict[str, Any]:
    return {"key": "m", "value": 1, "timestamp": 1, **kw}


PROBES = [
    # experiments
    post(
        "exp-create-ok",
        "/experiments/create",
        {"name": "$NEW"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-empty",
        "/experiments/create",
        {"name": ""},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-long",
        "/experiments/create",
        {"name": "n" * 501},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-runs",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "runs:/a/b"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-frag",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "s3://b/x#f"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-params",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "/d/x;v=1"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-query",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "s3://b/x?a=../b"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-http",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "http://evil/x"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-proxy-host",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "mlflow-artifacts://h/x"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-s3-semicolon",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "s3://b/x;p"},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-length",
        "/experiments/create",
        {"name": "$NEW", "artifact_location": "s3://b/" + "x" * 2042},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-tag-empty-key",
        "/experiments/create",
        {"name": "$NEW", "tags": [{"key": "", "value": "1"}]},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-tag-value",
        "/experiments/create",
        {"name": "$NEW", "tags": [{"key": "k", "value": "v" * 20001}]},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post(
        "exp-create-views",
        "/experiments/create",
        {"name": "$NEW", "tags": [{"key": f"mlflow.customView.view{i}", "value": "{}"} for i in range(51)]},
        pb.CreateExperiment,
        v.check_create_experiment,
    ),
    post("exp-search-absent", "/experiments/search", {}, pb.SearchExperiments, v.check_search_experiments),
    post(
        "exp-search-neg",
        "/experiments/search",
        {"max_results": -3},
        pb.SearchExperiments,
        v.check_search_experiments,
    ),
    post(
        "exp-search-big",
        "/experiments/search",
        {"max_results": 50001},
        pb.SearchExperiments,
        v.check_search_experiments,
    ),
    post(
        "exp-search-ok",
        "/experiments/search",
        {"max_results": 5},
        pb.SearchExperiments,
        v.check_search_experiments,
    ),
    get("exp-get-missing", "/experiments/get", {}, pb.GetExperiment, v.check_get_experiment),
    get(
        "exp-get-bad", "/experiments/get", {"experiment_id": "abc"}, pb.GetExperiment, v.check_get_experiment
    ),
    get(
        "exp-get-unknown",
        "/experiments/get",
        {"experiment_id": "987654"},
        pb.GetExperiment,
        v.check_get_experiment,
    ),
    get(
        "exp-by-name-missing",
        "/experiments/get-by-name",
        {},
        pb.GetExperimentByName,
        v.check_get_experiment_by_name,
    ),
    post(
        "exp-update-no-name",
        "/experiments/update",
        {"experiment_id": "$EID"},
        pb.UpdateExperiment,
        v.check_update_experiment,
    ),
    post(
        "exp-update-long",
        "/experiments/update",
        {"experiment_id": "abc", "new_name": "n" * 501},
        pb.UpdateExperiment,
        v.check_update_experiment,
    ),
    post(
        "exp-delete-bad",
        "/experiments/delete",
        {"experiment_id": "x1"},
        pb.DeleteExperiment,
        v.check_delete_experiment,
    ),
    post("exp-restore-missing", "/experiments/restore", {}, pb.RestoreExperiment, v.check_restore_experiment),
    post(
        "exp-tag-no-key",
        "/experiments/set-experiment-tag",
        {"experiment_id": "$EID", "value": "v"},
        pb.SetExperimentTag,
        v.check_set_experiment_tag,
    ),
    post(
        "exp-tag-key",
        "/experiments/set-experiment-tag",
        {"experiment_id": "$EID", "key": "a/../b", "value": "v"},
        pb.SetExperimentTag,
        v.check_set_experiment_tag,
    ),
    post(
        "exp-tag-value",
        "/experiments/set-experiment-tag",
        {"experiment_id": "$EID", "key": "k", "value": "v" * 20001},
        pb.SetExperimentTag,
        v.check_set_experiment_tag,
    ),
    post(
        "exp-tag-bad-id",
        "/experiments/set-experiment-tag",
        {"experiment_id": "abc", "key": "k", "value": "v"},
        pb.SetExperimentTag,
        v.check_set_experiment_tag,
    ),
    post(
        "exp-tag-ok",
        "/experiments/set-experiment-tag",
        {"experiment_id": "$EID", "key": "k", "value": "v"},
        pb.SetExperimentTag,
        v.check_set_experiment_tag,
    ),
    post(
        "exp-deltag-no-key",
        "/experiments/delete-experiment-tag",
        {"experiment_id": "$EID"},
        pb.DeleteExperimentTag,
        v.check_delete_experiment_tag,
    ),
    # runs
    post("run-create-bad-id", "/runs/create", {"experiment_id": "abc"}, pb.CreateRun, v.check_create_run),
    post(
        "run-create-name-mismatch",
        "/runs/create",
        {"experiment_id": "$EID", "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]},
        pb.CreateRun,
        v.check_create_run,
    ),
    post("run-update-missing", "/runs/update", {"run_uuid": ""}, pb.UpdateRun, v.check_update_run),
    post("run-delete-missing", "/runs/delete", {}, pb.DeleteRun, v.check_delete_run),
    get("run-get-missing", "/runs/get", {}, pb.GetRun, v.check_get_run),
    get("run-get-uuid", "/runs/get", {"run_uuid": "$RID"}, pb.GetRun, v.check_get_run),
    post(
        "run-search-big",
        "/runs/search",
        {"experiment_ids": ["$EID"], "max_results": 50001},
        pb.SearchRuns,
        v.check_search_runs,
    ),
    post(
        "run-search-zero",
        "/runs/search",
        {"experiment_ids": ["$EID"], "max_results": 0},
        pb.SearchRuns,
        v.check_search_runs,
    ),
    post(
        "run-search-bad-id", "/runs/search", {"experiment_ids": ["abc"]}, pb.SearchRuns, v.check_search_runs
    ),
    post("metric-ok", "/runs/log-metric", {"run_id": "$RID", **metric()}, pb.LogMetric, v.check_log_metric),
    post(
        "metric-unknown-run",
        "/runs/log-metric",
        {"run_id": "0" * 32, **metric()},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-ts",
        "/runs/log-metric",
        {"run_id": "$RID", **metric(key="nt", timestamp=-5)},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-ts-inf",
        "/runs/log-metric",
        {"run_id": "$RID", **metric(value="Infinity", timestamp=-1)},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-chars",
        "/runs/log-metric",
        {"run_id": "$RID", **metric(key="bad$key")},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-path",
        "/runs/log-metric",
        {"run_id": "$RID", **metric(key="a//b")},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-long",
        "/runs/log-metric",
        {"run_id": "$RID", **metric(key=LONG)},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-long-ts",
        "/runs/log-metric",
        {"run_id": "$RID", **metric(key=LONG, timestamp=-1)},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-no-value",
        "/runs/log-metric",
        {"run_uuid": "$RID", "key": "m", "timestamp": 5},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "metric-empty-run-id",
        "/runs/log-metric",
        {"run_id": "", "run_uuid": "$RID", **metric()},
        pb.LogMetric,
        v.check_log_metric,
    ),
    post(
        "param-long-key",
        "/runs/log-parameter",
        {"run_id": "$RID", "key": LONG, "value": "1"},
        pb.LogParam,
        v.check_log_param,
    ),
    post(
        "param-chars",
        "/runs/log-parameter",
        {"run_id": "$RID", "key": "p$", "value": "1"},
        pb.LogParam,
        v.check_log_param,
    ),
    post(
        "param-long-value",
        "/runs/log-parameter",
        {"run_id": "$RID", "key": "pv", "value": "v" * 6001},
        pb.LogParam,
        v.check_log_param,
    ),
    post(
        "tag-long-key",
        "/runs/set-tag",
        {"run_id": "$RID", "key": LONG, "value": "1"},
        pb.SetTag,
        v.check_set_tag,
    ),
    post(
        "tag-newline-key",
        "/runs/set-tag",
        {"run_id": "$RID", "key": "t\n", "value": "1"},
        pb.SetTag,
        v.check_set_tag,
    ),
    post(
        "tag-long-value",
        "/runs/set-tag",
        {"run_id": "$RID", "key": "tv", "value": "v" * 8001},
        pb.SetTag,
        v.check_set_tag,
    ),
    post("deltag-no-key", "/runs/delete-tag", {"run_id": "$RID"}, pb.DeleteTag, v.check_delete_tag),
    post(
        "batch-no-ts",
        "/runs/log-batch",
        {"run_id": "$RID", "metrics": [{"key": "m", "value": 1}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-ts",
        "/runs/log-batch",
        {"run_id": "$RID", "metrics": [metric(timestamp=-1)]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-tag-long",
        "/runs/log-batch",
        {"run_id": "$RID", "tags": [{"key": LONG}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-tag-chars",
        "/runs/log-batch",
        {"run_id": "$RID", "tags": [{"key": "t$"}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-param-chars",
        "/runs/log-batch",
        {"run_id": "$RID", "params": [{"key": "a"}, {"key": "p$"}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-dupes",
        "/runs/log-batch",
        {"run_id": "$RID", "params": [{"key": "d", "value": "1"}, {"key": "d", "value": "1"}, {"key": "d"}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post("batch-run-id", "/runs/log-batch", {"run_id": "bad id"}, pb.LogBatch, v.check_log_batch),
    post("batch-run-id-unicode", "/runs/log-batch", {"run_id": "é"}, pb.LogBatch, v.check_log_batch),
    post(
        "batch-101-params",
        "/runs/log-batch",
        {"run_id": "$RID", "params": [{"key": f"k{i}"} for i in range(101)]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-101-tags",
        "/runs/log-batch",
        {"run_id": "$RID", "tags": [{"key": f"k{i}"} for i in range(101)]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-1001-metrics",
        "/runs/log-batch",
        {"run_id": "$RID", "metrics": [metric()] * 1001},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-1001-total",
        "/runs/log-batch",
        {"run_id": "$RID", "metrics": [metric()] * 901, "params": [{"key": f"k{i}"} for i in range(100)]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-required-first",
        "/runs/log-batch",
        {"run_id": "$RID", "params": [{"key": f"k{i}"} for i in range(101)], "metrics": [{"key": "m"}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post("batch-empty", "/runs/log-batch", {"run_id": "$RID"}, pb.LogBatch, v.check_log_batch),
    post(
        "model-empty",
        "/runs/log-model",
        {"run_id": "$RID", "model_json": "{}"},
        pb.LogModel,
        v.check_log_model,
    ),
    post(
        "model-malformed",
        "/runs/log-model",
        {"run_id": "$RID", "model_json": "{x"},
        pb.LogModel,
        v.check_log_model,
    ),
    post(
        "inputs-digest",
        "/runs/log-inputs",
        {
            "run_id": "$RID",
            "datasets": [{"dataset": {"name": "d", "digest": "x" * 37, "source_type": "s", "source": "s"}}],
        },
        pb.LogInputs,
        v.check_log_inputs,
    ),
    post(
        "inputs-tag-key",
        "/runs/log-inputs",
        {
            "run_id": "$RID",
            "datasets": [
                {
                    "tags": [{"key": "k" * 256, "value": "v"}],
                    "dataset": {"name": "d", "digest": "x", "source_type": "s", "source": "s"},
                }
            ],
        },
        pb.LogInputs,
        v.check_log_inputs,
    ),
    post("inputs-run-id", "/runs/log-inputs", {"run_id": "bad id"}, pb.LogInputs, v.check_log_inputs),
    post("outputs-no-models", "/runs/outputs", {"run_id": "$RID"}, pb.LogOutputs, v.check_log_outputs),
    # metric history
    get(
        "history-no-key",
        "/metrics/get-history",
        {"run_id": "$RID"},
        pb.GetMetricHistory,
        v.check_get_metric_history,
    ),
    get(
        "history-no-run",
        "/metrics/get-history",
        {"metric_key": "m"},
        pb.GetMetricHistory,
        v.check_get_metric_history,
    ),
    get(
        "history-zero",
        "/metrics/get-history",
        {"run_id": "$RID", "metric_key": "m", "max_results": "0"},
        pb.GetMetricHistory,
        v.check_get_metric_history,
    ),
    get(
        "history-ok",
        "/metrics/get-history",
        {"run_id": "$RID", "metric_key": "m", "max_results": "10"},
        pb.GetMetricHistory,
        v.check_get_metric_history,
    ),
    get(
        "interval-none",
        "/metrics/get-history-bulk-interval",
        {"metric_key": "m"},
        pb.GetMetricHistoryBulkInterval,
        v.check_get_metric_history_bulk_interval,
    ),
    get(
        "interval-101",
        "/metrics/get-history-bulk-interval",
        {"run_ids": ["$RID"] * 101, "metric_key": "m"},
        pb.GetMetricHistoryBulkInterval,
        v.check_get_metric_history_bulk_interval,
    ),
    get(
        "interval-max",
        "/metrics/get-history-bulk-interval",
        {"run_ids": ["$RID"], "metric_key": "m", "max_results": "2501"},
        pb.GetMetricHistoryBulkInterval,
        v.check_get_metric_history_bulk_interval,
    ),
    get(
        "interval-start-only",
        "/metrics/get-history-bulk-interval",
        {"run_ids": ["$RID"], "metric_key": "m", "start_step": "3"},
        pb.GetMetricHistoryBulkInterval,
        v.check_get_metric_history_bulk_interval,
    ),
    get(
        "interval-reversed",
        "/metrics/get-history-bulk-interval",
        {"run_ids": ["$RID"], "metric_key": "m", "start_step": "5", "end_step": "3"},
        pb.GetMetricHistoryBulkInterval,
        v.check_get_metric_history_bulk_interval,
    ),
    get(
        "interval-ok",
        "/metrics/get-history-bulk-interval",
        {"run_ids": ["$RID"], "metric_key": "m", "start_step": "3", "end_step": "3"},
        pb.GetMetricHistoryBulkInterval,
        v.check_get_metric_history_bulk_interval,
    ),
    # logged models
    post(
        "lm-create-quote",
        "/logged-models",
        {"experiment_id": "$EID", "name": "a'b"},
        pb.CreateLoggedModel,
        v.check_create_logged_model,
    ),
    post(
        "lm-create-dot",
        "/logged-models",
        {"experiment_id": "$EID", "name": "a.b"},
        pb.CreateLoggedModel,
        v.check_create_logged_model,
    ),
    post(
        "lm-create-bad-exp",
        "/logged-models",
        {"experiment_id": "abc"},
        pb.CreateLoggedModel,
        v.check_create_logged_model,
    ),
    post(
        "lm-create-no-exp", "/logged-models", {"name": "m"}, pb.CreateLoggedModel, v.check_create_logged_model
    ),
    post(
        "lm-create-ok",
        "/logged-models",
        {"experiment_id": "$EID", "name": "model"},
        pb.CreateLoggedModel,
        v.check_create_logged_model,
    ),
    post(
        "lm-search-dataset",
        "/logged-models/search",
        {"experiment_ids": ["$EID"], "datasets": [{"dataset_digest": "x"}]},
        pb.SearchLoggedModels,
        v.check_search_logged_models,
    ),
    post(
        "lm-search-order",
        "/logged-models/search",
        {"experiment_ids": ["$EID"], "order_by": [{"ascending": True}]},
        pb.SearchLoggedModels,
        v.check_search_logged_models,
    ),
    post(
        "lm-search-bad-exp",
        "/logged-models/search",
        {"experiment_ids": ["abc"]},
        pb.SearchLoggedModels,
        v.check_search_logged_models,
    ),
]


# Edge cases of the entity-key rule (Unicode \\w, POSIX normalisation), each tried as a param key
# and as a metric name.
TRICKY_KEYS = [
    "a/b/",
    "./a",
    "a/.",
    "a..b",
    "...",
    "a/...",
    "ü/ß",
    "日本語",
    "٣",
    " a",
    "a ",
    "a\u00a0b",
    "a\u200bb",
    "C:\\x",
    "~a",
    "//a",
    "a:b",
    "a\tb",
    "-",
    "_",
]
PROBES += [
    post(
        f"key-param-{i}",
        "/runs/log-parameter",
        {"run_id": "$RID", "key": key, "value": "1"},
        pb.LogParam,
        v.check_log_param,
    )
    for i, key in enumerate(TRICKY_KEYS)
]
PROBES += [
    post(
        f"key-metric-{i}",
        "/runs/log-metric",
        {"run_id": "$RID", **metric(key=key)},
        pb.LogMetric,
        v.check_log_metric,
    )
    for i, key in enumerate(TRICKY_KEYS)
]


def substitute(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [substitute(item, names) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, names) for key, item in value.items()}
    return value


@dataclass
class Reference:
    client: httpx.Client
    names: dict[str, str]
    counter: int = 0

    def fresh(self, probe: Probe) -> dict[str, Any]:
        self.counter += 1
        names = {**self.names, "$NEW": f"val-{probe.id}-{self.counter}"}
        return dict(substitute(probe.body, names))


@pytest.fixture(scope="module")
def reference(
    reference_server_launcher: Any, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    database = database_factory.create("sqlite")
    artifacts = tmp_path_factory.mktemp("validation-ref-artifacts")
    server = reference_server_launcher.launch(database.sqlalchemy_uri, str(artifacts))
    with httpx.Client(base_url=server.url, timeout=60) as client:
        eid = client.post(API + "/experiments/create", json={"name": "validation-ref"}).json()[
            "experiment_id"
        ]
        rid = client.post(API + "/runs/create", json={"experiment_id": eid}).json()["run"]["info"]["run_id"]
        yield Reference(client, {"$EID": eid, "$RID": rid})


MISSING_FIELDS = "Model json is missing mandatory fields: "


def comparable(message: str) -> str:
    """MLflow prints that set in hash order, which changes per process; ours is sorted."""
    if message.startswith(MISSING_FIELDS):
        names = sorted(message.removeprefix(MISSING_FIELDS).strip("{}").split(", "))
        return MISSING_FIELDS + "{" + ", ".join(names) + "}"
    return message


def ours(probe: Probe, body: dict[str, Any]) -> tuple[str, str] | None:
    request = json_format.ParseDict(body, probe.message_type(), ignore_unknown_fields=True)
    try:
        probe.check(request)
    except RunstashError as error:
        return error.code.value, error.message
    return None


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_matches_reference_server(reference: Reference, probe: Probe) -> None:
    body = reference.fresh(probe)
    if probe.query:
        response = reference.client.request(probe.method, probe.path, params=body)
    else:
        response = reference.client.request(probe.method, probe.path, json=body)
    assert response.status_code < 500, response.text[:500]
    payload = response.json()
    if response.status_code == 200 or payload.get("error_code") == "RESOURCE_DOES_NOT_EXIST":
        assert ours(probe, body) is None
    else:
        assert ours(probe, body) == (payload["error_code"], comparable(payload["message"]))


TYPE_ERRORS = [
    ("/runs/create", "experiment_id", 0),
    ("/runs/create", "experiment_id", 1.5),
    ("/runs/create", "experiment_id", [1, 2]),
    ("/runs/create", "experiment_id", {"b": 1, "a": "é"}),
    ("/runs/create", "start_time", "soon"),
    ("/experiments/create", "name", True),
]


@pytest.mark.parametrize(
    ("path", "field_name", "value"), TYPE_ERRORS, ids=[f"{p}:{f}:{x!r}" for p, f, x in TYPE_ERRORS]
)
def test_type_error_message_matches_reference(
    reference: Reference, path: str, field_name: str, value: Any
) -> None:
    response = reference.client.post(API + path, json={field_name: value})
    assert response.status_code == 400
    assert response.json()["message"] == v.type_error_message(field_name, value)


NO_TRUNCATION_PROBES = [
    post(
        "param-value",
        "/runs/log-parameter",
        {"run_id": "$RID", "key": "p", "value": "v" * 6001},
        pb.LogParam,
        v.check_log_param,
    ),
    post(
        "tag-value",
        "/runs/set-tag",
        {"run_id": "$RID", "key": "t", "value": "v" * 8001},
        pb.SetTag,
        v.check_set_tag,
    ),
    post(
        "batch-tag-value",
        "/runs/log-batch",
        {"run_id": "$RID", "tags": [{"key": "a"}, {"key": "t", "value": "v" * 8001}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "batch-param-value",
        "/runs/log-batch",
        {"run_id": "$RID", "params": [{"key": "a"}, {"key": "p", "value": "v" * 6001}]},
        pb.LogBatch,
        v.check_log_batch,
    ),
    post(
        "param-value-6000",
        "/runs/log-parameter",
        {"run_id": "$RID", "key": "q", "value": "v" * 6000},
        pb.LogParam,
        v.check_log_param,
    ),
]


@pytest.fixture(scope="module")
def reference_without_truncation(
    reference_server_launcher: Any, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    database = database_factory.create("sqlite")
    artifacts = tmp_path_factory.mktemp("validation-ref-notrunc-artifacts")
    server = reference_server_launcher.launch(
        database.sqlalchemy_uri, str(artifacts), env={"MLFLOW_TRUNCATE_LONG_VALUES": "false"}
    )
    with httpx.Client(base_url=server.url, timeout=60) as client:
        rid = client.post(API + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        yield Reference(client, {"$RID": rid})


@pytest.mark.parametrize("probe", NO_TRUNCATION_PROBES, ids=[p.id for p in NO_TRUNCATION_PROBES])
def test_matches_reference_server_without_truncation(
    reference_without_truncation: Reference, probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "false")
    body = reference_without_truncation.fresh(probe)
    response = reference_without_truncation.client.post(probe.path, json=body)
    assert response.status_code < 500, response.text[:500]
    payload = response.json()
    if response.status_code == 200:
        assert ours(probe, body) is None
    else:
        assert ours(probe, body) == (payload["error_code"], payload["message"])
