"""Request checks for the run RPCs: create/update/delete/get/search runs, metrics, params, tags,
log-batch, inputs/outputs, the legacy log-model and the metric-history reads.

Checks never modify the request. Values that MLflow silently truncates (param values over 6000,
run-tag values over 8000 characters) pass here when truncation is on, and the store cuts them
(the one place they are cut). With ``MLFLOW_TRUNCATE_LONG_VALUES=false`` they are rejected here,
before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

from runstash_metadata.settings import ValidationSettings
from runstash_metadata.store.values import RUN_NAME_TAG
from runstash_metadata.validation_common import (
    API_DOCS_HINT,
    MAX_ENTITY_KEY_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    check_entity_key,
    check_max_length,
    check_param_value_length,
    check_run_id_format,
    check_tag_value_length,
    entity_key_problem,
    invalid,
    invalid_value_message,
    is_missing,
    missing_value_message,
    non_positive_max_results_message,
    parse_experiment_id,
    parse_experiment_ids,
    require,
    require_run_id,
    type_error_message,
)

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_SEARCH_RUNS_RESULTS = 50000
MAX_HISTORY_BULK_INTERVAL_RUNS = 100
MAX_HISTORY_BULK_INTERVAL_RESULTS = 2500
MAX_HISTORY_BULK_RUNS = 100
MAX_HISTORY_BULK_RESULTS = 25000
MAX_DATASET_NAME_LENGTH = 500
MAX_DATASET_DIGEST_LENGTH = 36
MAX_DATASET_SOURCE_LENGTH = 65535
MAX_DATASET_SCHEMA_LENGTH = 1048575
MAX_DATASET_PROFILE_LENGTH = 16777215
MAX_INPUT_TAG_KEY_LENGTH = 255
MAX_INPUT_TAG_VALUE_LENGTH = 500
LOG_MODEL_REQUIRED_FIELDS = frozenset({"artifact_path", "flavors", "utc_time_created", "run_id"})


# ---------------------------------------------------------------- items (shared by single and batch)


def _suspect_key(key: str) -> bool:
    """Cheap pre-test: could this key fail the key rule or the 250-character limit?"""
    return len(key) > MAX_ENTITY_KEY_LENGTH or entity_key_problem(key) is not None


def _item_path(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix else field


def check_metric(key: str, value: float, timestamp: int, prefix: str = "") -> None:
    """One metric point; ``prefix`` is ``""`` for log-metric and ``metrics[i]`` in a batch.

    MLflow checks the name's length last, after the timestamp, so a long name with a negative
    timestamp reports the timestamp.
    """
    check_entity_key(key, _item_path(prefix, "name"))
    if timestamp < 0:
        detail = f"metric '{key}' (value={value}). Timestamp must be a nonnegative long (64-bit integer) "
        raise invalid(invalid_value_message(_item_path(prefix, "timestamp"), timestamp, detail))
    check_max_length("Metric name", MAX_ENTITY_KEY_LENGTH, key)


def check_param(key: str, value: str, prefix: str = "", settings: ValidationSettings | None = None) -> None:
    check_entity_key(key, _item_path(prefix, "key"))
    check_max_length("Param key", MAX_ENTITY_KEY_LENGTH, key)
    check_param_value_length(value, settings)


def check_run_tag(key: str, value: str, prefix: str = "", settings: ValidationSettings | None = None) -> None:
    key_path = _item_path(prefix, "key")
    check_entity_key(key, key_path)
    check_max_length(key_path, MAX_ENTITY_KEY_LENGTH, key)
    check_tag_value_length(value, _item_path(prefix, "value"), settings)


# ---------------------------------------------------------------- runs


def check_create_run(request: pb.CreateRun) -> None:
    if is_missing(request, "experiment_id"):
        # MLflow answers BAD_REQUEST here (a raw foreign-key error from the insert); same code,
        # readable message.
        raise RunstashError(ErrorCode.BAD_REQUEST, missing_value_message("experiment_id"))
    parse_experiment_id(request.experiment_id)
    name_tags = [tag.value for tag in request.tags if tag.key == RUN_NAME_TAG]
    # MLflow reads the first mlflow.runName tag, and an empty one counts as absent.
    if request.run_name and name_tags and name_tags[0] and request.run_name != name_tags[0]:
        raise invalid(
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different"
            f" values (run_name='{request.run_name}', mlflow.runName='{name_tags[0]}')."
        )


def check_update_run(request: pb.UpdateRun) -> None:
    require_run_id(request)


def check_delete_run(request: pb.DeleteRun) -> None:
    require(request, "run_id")


def check_restore_run(request: pb.RestoreRun) -> None:
    require(request, "run_id")


def check_get_run(request: pb.GetRun) -> None:
    require_run_id(request)


def check_search_runs(request: pb.SearchRuns) -> None:
    max_results = request.max_results  # proto default 1000 when absent
    if max_results > MAX_SEARCH_RUNS_RESULTS:
        # MLflow's (misleading) wording for this limit is its generic type-error message.
        raise invalid(type_error_message("max_results", max_results))
    if max_results < 1:
        raise invalid(non_positive_max_results_message(max_results))
    parse_experiment_ids(request.experiment_ids)


# ---------------------------------------------------------------- metrics, params, tags


def check_log_metric(request: pb.LogMetric) -> None:
    require_run_id(request)
    require(request, "key")
    require(request, "value")
    require(request, "timestamp")
    check_metric(request.key, request.value, request.timestamp)


def check_log_param(request: pb.LogParam, settings: ValidationSettings | None = None) -> None:
    require_run_id(request)
    require(request, "key")
    check_param(request.key, request.value, settings=settings)


def check_set_tag(request: pb.SetTag, settings: ValidationSettings | None = None) -> None:
    require_run_id(request)
    require(request, "key")
    check_run_tag(request.key, request.value, settings=settings)


def check_delete_tag(request: pb.DeleteTag) -> None:
    require(request, "run_id")
    require(request, "key")


def _check_batch_limit(entity: str, limit: int, count: int) -> None:
    if count > limit:
        raise invalid(
            f"A batch logging request can contain at most {limit} {entity}. Got {count} {entity}."
            f" Please split up {entity} across multiple requests and try again."
        )


def check_log_batch(request: pb.LogBatch, settings: ValidationSettings | None = None) -> None:
    """Every item is checked before anything is written (the batch is all-or-nothing).

    Hot path (up to 1000 items per call): each item takes a cheap test first and only a failing
    one goes through the full check that builds MLflow's message with the item's path.
    """
    require(request, "run_id")
    for i, metric in enumerate(request.metrics):
        # An absent string reads as "", so `not key` is MLflow's "absent or empty".
        if not (metric.key and metric.HasField("value") and metric.HasField("timestamp")):
            for field in ("key", "value", "timestamp"):
                require(metric, field, path=f"metrics[{i}].{field}")
    for i, param in enumerate(request.params):
        if not param.key:
            raise invalid(missing_value_message(f"params[{i}].key"))
    for i, tag in enumerate(request.tags):
        if not tag.key:
            raise invalid(missing_value_message(f"tags[{i}].key"))

    check_run_id_format(request.run_id)
    for i, metric in enumerate(request.metrics):
        if _suspect_key(metric.key) or metric.timestamp < 0:
            check_metric(metric.key, metric.value, metric.timestamp, f"metrics[{i}]")
    for i, param in enumerate(request.params):
        if _suspect_key(param.key) or len(param.value) > MAX_PARAM_VALUE_LENGTH:
            check_param(param.key, param.value, f"params[{i}]", settings)
    for i, tag in enumerate(request.tags):
        if _suspect_key(tag.key) or len(tag.value) > MAX_TAG_VALUE_LENGTH:
            check_run_tag(tag.key, tag.value, f"tags[{i}]", settings)

    n_metrics, n_params, n_tags = len(request.metrics), len(request.params), len(request.tags)
    _check_batch_limit("metrics", MAX_METRICS_PER_BATCH, n_metrics)
    _check_batch_limit("params", MAX_PARAMS_PER_BATCH, n_params)
    _check_batch_limit("tags", MAX_TAGS_PER_BATCH, n_tags)
    _check_batch_limit("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, n_metrics + n_params + n_tags)

    seen: set[str] = set()
    duplicates: list[str] = []
    for param in request.params:
        if param.key in seen:
            duplicates.append(param.key)
        seen.add(param.key)
    if duplicates:
        raise invalid(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the request"
            " contains only one param value per param key."
        )


def check_log_model(request: pb.LogModel) -> None:
    require(request, "run_id")
    require(request, "model_json")
    try:
        model: Any = json.loads(request.model_json)
    except ValueError:
        raise invalid(f"Malformed model info. \n {request.model_json} \n is not a valid JSON.") from None
    # MLflow crashes (500) on JSON that is not an object; such a document has none of the fields.
    present = set(model) if isinstance(model, dict) else set()
    missing = LOG_MODEL_REQUIRED_FIELDS - present
    if missing:
        # Sorted: MLflow prints a Python set, whose order varies between processes.
        listed = ", ".join(repr(name) for name in sorted(missing))
        raise invalid(f"Model json is missing mandatory fields: {{{listed}}}")


# ---------------------------------------------------------------- inputs and outputs


def check_dataset(dataset: pb.Dataset) -> None:
    check_max_length("name", MAX_DATASET_NAME_LENGTH, dataset.name)
    check_max_length("digest", MAX_DATASET_DIGEST_LENGTH, dataset.digest)
    check_max_length("source", MAX_DATASET_SOURCE_LENGTH, dataset.source)
    if dataset.HasField("schema"):
        check_max_length("schema", MAX_DATASET_SCHEMA_LENGTH, dataset.schema)
    if dataset.HasField("profile"):
        check_max_length("profile", MAX_DATASET_PROFILE_LENGTH, dataset.profile)


def check_input_tag(tag: pb.InputTag) -> None:
    check_max_length("key", MAX_INPUT_TAG_KEY_LENGTH, tag.key)
    check_max_length("value", MAX_INPUT_TAG_VALUE_LENGTH, tag.value)


def check_log_inputs(request: pb.LogInputs) -> None:
    require(request, "run_id")
    check_run_id_format(request.run_id)
    for dataset_input in request.datasets:
        check_dataset(dataset_input.dataset)
        for tag in dataset_input.tags:
            check_input_tag(tag)


def check_log_outputs(request: pb.LogOutputs, present_empty: Collection[str] = frozenset()) -> None:
    # MLflow accepts an explicit "models": [] (named in ``present_empty``) and rejects an absent one.
    require(request, "run_id")
    if "models" not in present_empty:
        require(request, "models")


# ---------------------------------------------------------------- metric history


def check_get_metric_history(request: pb.GetMetricHistory) -> None:
    require_run_id(request)
    require(request, "metric_key")
    if request.HasField("max_results") and request.max_results <= 0:
        raise invalid(non_positive_max_results_message(request.max_results) + ".")


def check_get_metric_history_bulk_interval(request: pb.GetMetricHistoryBulkInterval) -> None:
    require(request, "run_ids")
    count = len(request.run_ids)
    if count > MAX_HISTORY_BULK_INTERVAL_RUNS:
        raise invalid(
            f"GetMetricHistoryBulkInterval request must specify at most"
            f" {MAX_HISTORY_BULK_INTERVAL_RUNS} run_ids. Received {count} run_ids.{API_DOCS_HINT}"
        )
    require(request, "metric_key")
    if request.HasField("max_results") and not 1 <= request.max_results <= MAX_HISTORY_BULK_INTERVAL_RESULTS:
        raise invalid(
            f"max_results must be between 1 and {MAX_HISTORY_BULK_INTERVAL_RESULTS}.{API_DOCS_HINT}"
        )
    has_start, has_end = request.HasField("start_step"), request.HasField("end_step")
    if has_start != has_end:
        raise invalid("If either start step or end step are specified, both must be specified.")
    if has_start and request.start_step > request.end_step:
        raise invalid(
            "end_step must be greater than start_step."
            f" Found start_step={request.start_step} and end_step={request.end_step}."
        )


MAX_CHART_KEYS = 50


def check_get_chart_histories(request: pb.GetChartHistories) -> None:
    """runstash's chart call: the bulk-interval limits per key, at most MAX_CHART_KEYS keys."""
    require(request, "run_ids")
    require(request, "metric_keys")
    if len(request.run_ids) > MAX_HISTORY_BULK_INTERVAL_RUNS:
        raise invalid(f"GetChartHistories takes at most {MAX_HISTORY_BULK_INTERVAL_RUNS} run_ids.")
    if len(request.metric_keys) > MAX_CHART_KEYS:
        raise invalid(f"GetChartHistories takes at most {MAX_CHART_KEYS} metric_keys.")
    if request.HasField("max_results") and not 1 <= request.max_results <= MAX_HISTORY_BULK_INTERVAL_RESULTS:
        raise invalid(f"max_results must be between 1 and {MAX_HISTORY_BULK_INTERVAL_RESULTS}.")
    has_start, has_end = request.HasField("start_step"), request.HasField("end_step")
    if has_start != has_end:
        raise invalid("If either start step or end step are specified, both must be specified.")
    if has_start and request.start_step > request.end_step:
        raise invalid("end_step must be greater than start_step.")


def check_get_metric_history_bulk(request: pb.GetMetricHistoryBulk) -> None:
    count = len(request.run_id)
    if count == 0:
        raise invalid("GetMetricHistoryBulk request must specify at least one run_id.")
    if count > MAX_HISTORY_BULK_RUNS:
        raise invalid(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_HISTORY_BULK_RUNS}"
            f" run_ids. Received {count} run_ids."
        )
    # Only absence counts: MLflow tests `is None`, so an empty metric_key passes.
    if not request.HasField("metric_key"):
        raise invalid("GetMetricHistoryBulk request must specify a metric_key.")


def history_bulk_max_results(request: pb.GetMetricHistoryBulk) -> int:
    """The effective page size of get-history-bulk: default and ceiling 25000, never an error.

    0 gives an empty answer as in MLflow; a negative value also does here (MLflow slices its
    result with it, dropping points from the end, which is no behaviour worth copying).
    """
    if not request.HasField("max_results"):
        return MAX_HISTORY_BULK_RESULTS
    return max(0, min(request.max_results, MAX_HISTORY_BULK_RESULTS))
