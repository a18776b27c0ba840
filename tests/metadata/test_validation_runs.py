"""Request validation for runs, metrics, params, tags, log-batch, inputs/outputs, log-model and
metric history: exact MLflow codes and messages, good values pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from runstash_metadata import validation as v
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

HINT = " See the API docs for more information about request parameters."
BAD_CHARS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ),"
    " colon(:) and slashes (/)."
)
RESOLVES = (
    "Names may be treated as files in certain cases, and must not resolve to other names when"
    " treated as such. This name would resolve to "
)


@dataclass(frozen=True)
class Case:
    """``call`` passes when ``message`` is None, else raises ``code`` with exactly ``message``."""

    id: str
    call: Callable[[], Any]
    message: str | None = None
    code: ErrorCode = ErrorCode.INVALID_PARAMETER_VALUE


def run_case(case: Case) -> None:
    if case.message is None:
        case.call()
        return
    with pytest.raises(RunstashError) as info:
        case.call()
    assert info.value.code == case.code
    assert info.value.message == case.message


def cases(*items: Case) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", items, ids=[c.id for c in items])


def missing(field: str) -> str:
    return f"Missing value for required parameter '{field}'.{HINT}"


def bad_id(value: str) -> str:
    return f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer."


RID = "0123456789abcdef0123456789abcdef"


def positive(value: int) -> str:
    return f"Invalid value {value} for parameter 'max_results' supplied. It must be a positive integer"


def negative_ts(value: int, key: str, metric_value: str, path: str = "timestamp") -> str:
    return (
        f"Invalid value {value} for parameter '{path}' supplied: metric '{key}' (value={metric_value})."
        " Timestamp must be a nonnegative long (64-bit integer) "
    )


# ---------------------------------------------------------------- run lifecycle


def create_run(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_create_run(pb.CreateRun(**kwargs))


def name_tag(value: str) -> pb.RunTag:
    return pb.RunTag(key="mlflow.runName", value=value)


@cases(
    Case("ok", create_run(experiment_id="0")),
    Case("ok-name-and-same-tag", create_run(experiment_id="1", run_name="a", tags=[name_tag("a")])),
    Case("ok-tag-only", create_run(experiment_id="1", tags=[name_tag("b")])),
    Case("ok-empty-tag", create_run(experiment_id="1", run_name="a", tags=[name_tag("")])),
    Case(
        "ok-tags-not-validated", create_run(experiment_id="1", tags=[pb.RunTag(key="bad$", value="x" * 9000)])
    ),
    Case("missing-id", create_run(), missing("experiment_id"), ErrorCode.BAD_REQUEST),
    Case("empty-id", create_run(experiment_id=""), missing("experiment_id"), ErrorCode.BAD_REQUEST),
    Case("bad-id", create_run(experiment_id="abc"), bad_id("abc")),
    Case(
        "name-mismatch",
        create_run(experiment_id="1", run_name="a", tags=[name_tag("b")]),
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values"
        " (run_name='a', mlflow.runName='b').",
    ),
    Case(
        "first-name-tag-wins",
        create_run(experiment_id="1", run_name="a", tags=[name_tag("b"), name_tag("a")]),
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values"
        " (run_name='a', mlflow.runName='b').",
    ),
)
def test_create_run(case: Case) -> None:
    run_case(case)


@cases(
    Case("update-run_id", lambda: v.check_update_run(pb.UpdateRun(run_id=RID, status=pb.FINISHED))),
    Case("update-run_uuid", lambda: v.check_update_run(pb.UpdateRun(run_uuid=RID))),
    Case("update-missing", lambda: v.check_update_run(pb.UpdateRun(end_time=5)), missing("run_id")),
    Case("update-empty-uuid", lambda: v.check_update_run(pb.UpdateRun(run_uuid="")), missing("run_id")),
    Case("delete-ok", lambda: v.check_delete_run(pb.DeleteRun(run_id=RID))),
    Case("delete-missing", lambda: v.check_delete_run(pb.DeleteRun()), missing("run_id")),
    Case("restore-ok", lambda: v.check_restore_run(pb.RestoreRun(run_id=RID))),
    Case("restore-empty", lambda: v.check_restore_run(pb.RestoreRun(run_id="")), missing("run_id")),
    Case("get-run_id", lambda: v.check_get_run(pb.GetRun(run_id=RID))),
    Case("get-run_uuid", lambda: v.check_get_run(pb.GetRun(run_uuid=RID))),
    Case("get-missing", lambda: v.check_get_run(pb.GetRun()), missing("run_id")),
)
def test_run_id_requests(case: Case) -> None:
    run_case(case)


def search_runs(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_search_runs(pb.SearchRuns(**kwargs))


@cases(
    Case("defaults", search_runs()),
    Case("ids", search_runs(experiment_ids=["0", "12"], max_results=50000)),
    Case("one", search_runs(max_results=1)),
    Case(
        "too-many",
        search_runs(max_results=50001),
        f"Invalid value 50001 for parameter 'max_results' supplied:  Hint: Value was of type 'int'.{HINT}",
    ),
    Case("zero", search_runs(max_results=0), positive(0)),
    Case("negative", search_runs(max_results=-1), positive(-1)),
    Case("bad-id", search_runs(experiment_ids=["1", "abc"]), bad_id("abc")),
    Case("max-results-before-ids", search_runs(experiment_ids=["abc"], max_results=0), positive(0)),
)
def test_search_runs(case: Case) -> None:
    run_case(case)


# ---------------------------------------------------------------- single writes


def log_metric(**kwargs: Any) -> Callable[[], None]:
    base: dict[str, Any] = {"run_id": RID, "key": "loss", "value": 1.0, "timestamp": 5}
    base.update(kwargs)
    return lambda: v.check_log_metric(pb.LogMetric(**{k: x for k, x in base.items() if x is not None}))


@cases(
    Case("ok", log_metric()),
    Case("ok-run_uuid", log_metric(run_id=None, run_uuid=RID)),
    Case("ok-zero-value-and-timestamp", log_metric(value=0.0, timestamp=0)),
    Case("ok-nan", log_metric(value=float("nan"))),
    Case("ok-inf", log_metric(value=float("inf"), step=-3)),
    Case("ok-250", log_metric(key="k" * 250)),
    Case("ok-model-link", log_metric(model_id="m-1", dataset_name="d", dataset_digest="x")),
    Case("missing-run", log_metric(run_id=None), missing("run_id")),
    Case("empty-run-no-fallback", log_metric(run_id="", run_uuid=RID), missing("run_id")),
    Case("missing-key", log_metric(key=None), missing("key")),
    Case("empty-key", log_metric(key=""), missing("key")),
    Case("missing-value", log_metric(value=None), missing("value")),
    Case("missing-timestamp", log_metric(timestamp=None), missing("timestamp")),
    Case(
        "key-chars",
        log_metric(key="bad$key"),
        f"Invalid value \"bad$key\" for parameter 'name' supplied: {BAD_CHARS}",
    ),
    Case(
        "key-path",
        log_metric(key="a/../b"),
        f"Invalid value \"a/../b\" for parameter 'name' supplied: {RESOLVES}'b'",
    ),
    Case("negative-timestamp", log_metric(key="nt", timestamp=-5), negative_ts(-5, "nt", "1.0")),
    Case(
        "negative-timestamp-inf", log_metric(value=float("inf"), timestamp=-1), negative_ts(-1, "loss", "inf")
    ),
    Case(
        "negative-timestamp-nan", log_metric(value=float("nan"), timestamp=-1), negative_ts(-1, "loss", "nan")
    ),
    Case("key-251", log_metric(key="m" * 251), "'Metric name' exceeds the maximum length of 250 characters"),
    Case(
        "timestamp-before-length", log_metric(key="m" * 251, timestamp=-1), negative_ts(-1, "m" * 251, "1.0")
    ),
)
def test_log_metric(case: Case) -> None:
    run_case(case)


def log_param(**kwargs: Any) -> Callable[[], None]:
    base: dict[str, Any] = {"run_id": RID, "key": "lr", "value": "0.1"}
    base.update(kwargs)
    return lambda: v.check_log_param(pb.LogParam(**{k: x for k, x in base.items() if x is not None}))


def set_tag(**kwargs: Any) -> Callable[[], None]:
    base: dict[str, Any] = {"run_id": RID, "key": "team", "value": "ml"}
    base.update(kwargs)
    return lambda: v.check_set_tag(pb.SetTag(**{k: x for k, x in base.items() if x is not None}))


@cases(
    Case("param-ok", log_param()),
    Case("param-value-absent", log_param(value=None)),
    Case("param-run_uuid", log_param(run_id=None, run_uuid=RID)),
    Case("param-long-value-truncated-later", log_param(value="v" * 7000)),
    Case("param-missing-run", log_param(run_id=None), missing("run_id")),
    Case("param-missing-key", log_param(key=None), missing("key")),
    Case(
        "param-key-chars",
        log_param(key="p$"),
        f"Invalid value \"p$\" for parameter 'key' supplied: {BAD_CHARS}",
    ),
    Case(
        "param-key-path",
        log_param(key="/abs"),
        f"Invalid value \"/abs\" for parameter 'key' supplied: {RESOLVES}'/abs'",
    ),
    Case(
        "param-key-251", log_param(key="p" * 251), "'Param key' exceeds the maximum length of 250 characters"
    ),
    Case("tag-ok", set_tag()),
    Case("tag-run-name", set_tag(key="mlflow.runName", value="new")),
    Case("tag-value-absent", set_tag(value=None)),
    Case("tag-long-value-truncated-later", set_tag(value="v" * 9000)),
    Case("tag-missing-run", set_tag(run_id=None), missing("run_id")),
    Case("tag-missing-key", set_tag(key=""), missing("key")),
    Case(
        "tag-key-chars", set_tag(key="t$"), f"Invalid value \"t$\" for parameter 'key' supplied: {BAD_CHARS}"
    ),
    Case("tag-key-251", set_tag(key="t" * 251), "'key' exceeds the maximum length of 250 characters"),
    Case("delete-tag-ok", lambda: v.check_delete_tag(pb.DeleteTag(run_id=RID, key="anything$"))),
    Case("delete-tag-missing-key", lambda: v.check_delete_tag(pb.DeleteTag(run_id=RID)), missing("key")),
    Case("delete-tag-missing-run", lambda: v.check_delete_tag(pb.DeleteTag(key="k")), missing("run_id")),
)
def test_params_and_tags(case: Case) -> None:
    run_case(case)


def test_long_values_rejected_when_truncation_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "false")
    run_case(
        Case(
            "param",
            log_param(value="v" * 6001),
            "'Param value' exceeds the maximum length of 6000 characters",
        )
    )
    run_case(Case("tag", set_tag(value="v" * 8001), "'value' exceeds the maximum length of 8000 characters"))
    log_param(value="v" * 6000)()
    set_tag(value="v" * 8000)()


# ---------------------------------------------------------------- log-batch


def metric(key: str = "m", value: float | None = 1.0, timestamp: int | None = 1, **kw: Any) -> pb.Metric:
    fields: dict[str, Any] = {"key": key, "value": value, "timestamp": timestamp, **kw}
    return pb.Metric(**{k: x for k, x in fields.items() if x is not None})


def batch(**kwargs: Any) -> Callable[[], None]:
    kwargs.setdefault("run_id", RID)
    return lambda: v.check_log_batch(pb.LogBatch(**kwargs))


def params(n: int, prefix: str = "p") -> list[pb.Param]:
    return [pb.Param(key=f"{prefix}{i}", value="v") for i in range(n)]


def tags(n: int) -> list[pb.RunTag]:
    return [pb.RunTag(key=f"t{i}", value="v") for i in range(n)]


def limit(entity: str, limit_: int, got: int) -> str:
    return (
        f"A batch logging request can contain at most {limit_} {entity}. Got {got} {entity}."
        f" Please split up {entity} across multiple requests and try again."
    )


@cases(
    Case("empty", batch()),
    Case("full", batch(metrics=[metric(timestamp=0, value=0.0)] * 800, params=params(100), tags=tags(100))),
    Case("1000-metrics", batch(metrics=[metric()] * 1000)),
    Case("missing-values-allowed", batch(params=[pb.Param(key="p")], tags=[pb.RunTag(key="t")])),
    Case(
        "long-values-truncated-later",
        batch(params=[pb.Param(key="p", value="v" * 7000)], tags=[pb.RunTag(key="t", value="v" * 9000)]),
    ),
    Case("missing-run", batch(run_id=""), missing("run_id")),
    Case("missing-metric-key", batch(metrics=[metric(), metric(key="")]), missing("metrics[1].key")),
    Case("missing-metric-value", batch(metrics=[metric(value=None)]), missing("metrics[0].value")),
    Case(
        "missing-metric-timestamp", batch(metrics=[metric(timestamp=None)]), missing("metrics[0].timestamp")
    ),
    Case(
        "missing-param-key", batch(params=[pb.Param(key="a"), pb.Param(value="x")]), missing("params[1].key")
    ),
    Case("missing-tag-key", batch(tags=[pb.RunTag(key="", value="x")]), missing("tags[0].key")),
    Case("bad-run-id", batch(run_id="bad id"), "Invalid value \"bad id\" for parameter 'run_id' supplied."),
    Case(
        "required-before-run-id-format",
        batch(run_id="bad id", metrics=[metric(value=None)]),
        missing("metrics[0].value"),
    ),
    Case(
        "metric-key-chars",
        batch(metrics=[metric(key="a$")]),
        f"Invalid value \"a$\" for parameter 'metrics[0].name' supplied: {BAD_CHARS}",
    ),
    Case(
        "metric-timestamp",
        batch(metrics=[metric(), metric(key="x", timestamp=-1)]),
        negative_ts(-1, "x", "1.0", "metrics[1].timestamp"),
    ),
    Case(
        "metric-key-251",
        batch(metrics=[metric(key="m" * 251)]),
        "'Metric name' exceeds the maximum length of 250 characters",
    ),
    Case(
        "param-key-chars",
        batch(params=[pb.Param(key="p$")]),
        f"Invalid value \"p$\" for parameter 'params[0].key' supplied: {BAD_CHARS}",
    ),
    Case(
        "param-key-251",
        batch(params=[pb.Param(key="p" * 251)]),
        "'Param key' exceeds the maximum length of 250 characters",
    ),
    Case(
        "tag-key-chars",
        batch(tags=[pb.RunTag(key="t$")]),
        f"Invalid value \"t$\" for parameter 'tags[0].key' supplied: {BAD_CHARS}",
    ),
    Case(
        "tag-key-path",
        batch(tags=[*tags(2), pb.RunTag(key="x/")]),
        f"Invalid value \"x/\" for parameter 'tags[2].key' supplied: {RESOLVES}'x'",
    ),
    Case(
        "tag-key-251",
        batch(tags=[pb.RunTag(key="t" * 251)]),
        "'tags[0].key' exceeds the maximum length of 250 characters",
    ),
    Case(
        "metrics-before-params",
        batch(metrics=[metric(key="a$")], params=[pb.Param(key="p$")]),
        f"Invalid value \"a$\" for parameter 'metrics[0].name' supplied: {BAD_CHARS}",
    ),
    Case("1001-metrics", batch(metrics=[metric()] * 1001), limit("metrics", 1000, 1001)),
    Case("101-params", batch(params=params(101)), limit("params", 100, 101)),
    Case("101-tags", batch(tags=tags(101)), limit("tags", 100, 101)),
    Case(
        "1001-total",
        batch(metrics=[metric()] * 900, params=params(100), tags=tags(1)),
        limit("metrics, params, and tags", 1000, 1001),
    ),
    Case(
        "items-before-limits",
        batch(params=[*params(100), pb.Param(key="bad$")]),
        f"Invalid value \"bad$\" for parameter 'params[100].key' supplied: {BAD_CHARS}",
    ),
    Case(
        "duplicate-params",
        batch(
            params=[
                pb.Param(key="d", value="1"),
                pb.Param(key="e"),
                pb.Param(key="d", value="1"),
                pb.Param(key="d"),
            ]
        ),
        "Duplicate parameter keys have been submitted: ['d', 'd']. Please ensure the request contains"
        " only one param value per param key.",
    ),
    Case(
        "limits-before-duplicates",
        batch(params=[*params(101), pb.Param(key="p0")]),
        limit("params", 100, 102),
    ),
)
def test_log_batch(case: Case) -> None:
    run_case(case)


def test_log_batch_long_tag_value_rejected_when_truncation_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "0")
    run_case(
        Case(
            "tag",
            batch(tags=[pb.RunTag(key="a"), pb.RunTag(key="t", value="v" * 8001)]),
            "'tags[1].value' exceeds the maximum length of 8000 characters",
        )
    )
    run_case(
        Case(
            "param",
            batch(params=[pb.Param(key="p", value="v" * 6001)]),
            "'Param value' exceeds the maximum length of 6000 characters",
        )
    )


# ---------------------------------------------------------------- log-model, inputs, outputs

MODEL = '{"artifact_path": "m", "flavors": {}, "utc_time_created": "2024-01-01", "run_id": "r"}'
ALL_MODEL_FIELDS = "{'artifact_path', 'flavors', 'run_id', 'utc_time_created'}"


def log_model(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_log_model(pb.LogModel(**kwargs))


@cases(
    Case("ok", log_model(run_id=RID, model_json=MODEL)),
    Case("missing-run", log_model(model_json=MODEL), missing("run_id")),
    Case("missing-json", log_model(run_id=RID), missing("model_json")),
    Case(
        "malformed",
        log_model(run_id=RID, model_json="{x"),
        "Malformed model info. \n {x \n is not a valid JSON.",
    ),
    Case(
        "empty-object",
        log_model(run_id=RID, model_json="{}"),
        f"Model json is missing mandatory fields: {ALL_MODEL_FIELDS}",
    ),
    Case(
        "not-an-object-is-400",
        log_model(run_id=RID, model_json="[1]"),
        f"Model json is missing mandatory fields: {ALL_MODEL_FIELDS}",
    ),
    Case(
        "some-missing",
        log_model(run_id=RID, model_json='{"run_id": "r", "artifact_path": "m"}'),
        "Model json is missing mandatory fields: {'flavors', 'utc_time_created'}",
    ),
)
def test_log_model(case: Case) -> None:
    run_case(case)


def dataset(**kwargs: Any) -> pb.Dataset:
    fields: dict[str, Any] = {"name": "train", "digest": "abc", "source_type": "local", "source": "{}"}
    fields.update(kwargs)
    return pb.Dataset(**fields)


def log_inputs(*datasets: pb.DatasetInput, run_id: str = RID, **kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_log_inputs(pb.LogInputs(run_id=run_id, datasets=list(datasets), **kwargs))


def dataset_input(tag_list: list[pb.InputTag] | None = None, **kwargs: Any) -> pb.DatasetInput:
    return pb.DatasetInput(dataset=dataset(**kwargs), tags=tag_list or [])


@cases(
    Case("ok", log_inputs(dataset_input([pb.InputTag(key="mlflow.data.context", value="train")]))),
    Case("ok-models-only", log_inputs(models=[pb.ModelInput(model_id="m-1")])),
    Case(
        "ok-limits",
        log_inputs(
            dataset_input([pb.InputTag(key="k" * 255, value="v" * 500)], name="n" * 500, digest="d" * 36)
        ),
    ),
    Case(
        "ok-no-digest", log_inputs(pb.DatasetInput(dataset=pb.Dataset(name="d", source_type="s", source="s")))
    ),
    Case("missing-run", log_inputs(run_id=""), missing("run_id")),
    Case(
        "bad-run-id", log_inputs(run_id="bad id"), "Invalid value \"bad id\" for parameter 'run_id' supplied."
    ),
    Case(
        "name-501",
        log_inputs(dataset_input(name="n" * 501)),
        "'name' exceeds the maximum length of 500 characters",
    ),
    Case(
        "digest-37",
        log_inputs(dataset_input(digest="d" * 37)),
        "'digest' exceeds the maximum length of 36 characters",
    ),
    Case(
        "source-65536",
        log_inputs(dataset_input(source="s" * 65536)),
        "'source' exceeds the maximum length of 65535 characters",
    ),
    Case(
        "schema",
        log_inputs(dataset_input(schema="s" * 1048576)),
        "'schema' exceeds the maximum length of 1048575 characters",
    ),
    Case(
        "profile",
        log_inputs(dataset_input(profile="p" * 16777216)),
        "'profile' exceeds the maximum length of 16777215 characters",
    ),
    Case(
        "tag-key-256",
        log_inputs(dataset_input([pb.InputTag(key="k" * 256, value="v")])),
        "'key' exceeds the maximum length of 255 characters",
    ),
    Case(
        "tag-value-501",
        log_inputs(dataset_input([pb.InputTag(key="k", value="v" * 501)])),
        "'value' exceeds the maximum length of 500 characters",
    ),
    Case(
        "dataset-before-its-tags",
        log_inputs(dataset_input([pb.InputTag(key="k" * 256)], digest="d" * 37)),
        "'digest' exceeds the maximum length of 36 characters",
    ),
    Case(
        "outputs-ok",
        lambda: v.check_log_outputs(
            pb.LogOutputs(run_id=RID, models=[pb.ModelOutput(model_id="m-1", step=0)])
        ),
    ),
    Case("outputs-missing-models", lambda: v.check_log_outputs(pb.LogOutputs(run_id=RID)), missing("models")),
    Case("outputs-empty-models", lambda: v.check_log_outputs(pb.LogOutputs(run_id=RID), {"models"})),
    Case(
        "outputs-missing-run",
        lambda: v.check_log_outputs(pb.LogOutputs(models=[pb.ModelOutput(model_id="m")])),
        missing("run_id"),
    ),
)
def test_inputs_and_outputs(case: Case) -> None:
    run_case(case)


# ---------------------------------------------------------------- metric history


def history(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_get_metric_history(pb.GetMetricHistory(**kwargs))


def interval(**kwargs: Any) -> Callable[[], None]:
    kwargs.setdefault("run_ids", [RID])
    kwargs.setdefault("metric_key", "loss")
    return lambda: v.check_get_metric_history_bulk_interval(pb.GetMetricHistoryBulkInterval(**kwargs))


def bulk(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_get_metric_history_bulk(pb.GetMetricHistoryBulk(**kwargs))


@cases(
    Case("history-ok", history(run_id=RID, metric_key="loss")),
    Case("history-page", history(run_uuid=RID, metric_key="loss", max_results=25000, page_token="x")),
    Case("history-missing-run", history(metric_key="loss"), missing("run_id")),
    Case("history-missing-key", history(run_id=RID), missing("metric_key")),
    Case("history-zero", history(run_id=RID, metric_key="m", max_results=0), positive(0) + "."),
    Case("history-negative", history(run_id=RID, metric_key="m", max_results=-2), positive(-2) + "."),
    Case("interval-ok", interval()),
    Case("interval-full", interval(run_ids=[RID] * 100, start_step=0, end_step=10, max_results=2500)),
    Case("interval-equal-steps", interval(start_step=3, end_step=3, max_results=1)),
    Case("interval-no-runs", interval(run_ids=[]), missing("run_ids")),
    Case(
        "interval-101-runs",
        interval(run_ids=[RID] * 101),
        f"GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.{HINT}",
    ),
    Case("interval-missing-key", interval(metric_key=None), missing("metric_key")),
    Case("interval-zero", interval(max_results=0), f"max_results must be between 1 and 2500.{HINT}"),
    Case("interval-2501", interval(max_results=2501), f"max_results must be between 1 and 2500.{HINT}"),
    Case(
        "interval-start-only",
        interval(start_step=3),
        "If either start step or end step are specified, both must be specified.",
    ),
    Case(
        "interval-end-only",
        interval(end_step=3),
        "If either start step or end step are specified, both must be specified.",
    ),
    Case(
        "interval-reversed",
        interval(start_step=5, end_step=3),
        "end_step must be greater than start_step. Found start_step=5 and end_step=3.",
    ),
    Case(
        "interval-max-before-steps",
        interval(start_step=5, max_results=0),
        f"max_results must be between 1 and 2500.{HINT}",
    ),
    Case("bulk-ok", bulk(run_id=[RID], metric_key="loss")),
    Case("bulk-empty-key-ok", bulk(run_id=[RID] * 100, metric_key="")),
    Case(
        "bulk-no-runs",
        bulk(metric_key="loss"),
        "GetMetricHistoryBulk request must specify at least one run_id.",
    ),
    Case(
        "bulk-101",
        bulk(run_id=[RID] * 101, metric_key="loss"),
        "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids.",
    ),
    Case("bulk-no-key", bulk(run_id=[RID]), "GetMetricHistoryBulk request must specify a metric_key."),
)
def test_metric_history(case: Case) -> None:
    run_case(case)


def test_interval_key_is_required_before_max_results() -> None:
    run_case(Case("order", interval(metric_key="", max_results=0), missing("metric_key")))


def test_history_bulk_max_results() -> None:
    assert v.history_bulk_max_results(pb.GetMetricHistoryBulk()) == 25000
    assert v.history_bulk_max_results(pb.GetMetricHistoryBulk(max_results=30000)) == 25000
    assert v.history_bulk_max_results(pb.GetMetricHistoryBulk(max_results=10)) == 10
    assert v.history_bulk_max_results(pb.GetMetricHistoryBulk(max_results=0)) == 0
    assert v.history_bulk_max_results(pb.GetMetricHistoryBulk(max_results=-5)) == 0
