"""Request validation for the metadata service: one pure ``check_<rpc>(request)`` per RPC plus the
shared helpers (see .team/metadata-contract.md, "Validation API").

The servicer calls the check first and the store after it. A check raises
``RunstashError`` with MLflow's error code and exact message; it needs no database, so existence
and lifecycle rules (404, "must be in the 'active' state") stay in the store. Where MLflow answers
a deterministic client error with a 5xx (the client would retry it for minutes), the check gives
the 400 equivalent; each such place says so in a comment.

The rules live in ``validation_common`` (vocabulary, keys, lengths, identifiers),
``validation_experiments``, ``validation_runs`` and ``validation_models``; this module is the one
import the servicer needs.

Required fields follow the reference server's handlers, not the ``(req)`` flags of MLflow's
messages. Flagged in MLflow's protos but deliberately NOT enforced (MLflow accepts them absent):
``value`` of set-experiment-tag / log-parameter / set-tag / batch params and tags (absent means
""), ``Dataset.name/digest/source_type/source`` and ``InputTag.key/value`` (absent means ""),
``DatasetInput.dataset``, ``ModelInput.model_id``, ``ModelOutput.model_id/step``. Enforced although
not flagged: ``CreateRun.experiment_id`` (BAD_REQUEST, as MLflow), ``GetRun``/``UpdateRun``/
``LogMetric``/``LogParam``/``SetTag``/``GetMetricHistory`` ``run_id`` (or ``run_uuid``),
``LogBatch.run_id``, ``LogModel.run_id/model_json``, ``LogOutputs.models`` and
``GetMetricHistoryBulkInterval.run_ids``.

JSON type errors ("Invalid value 0 for parameter 'experiment_id' supplied:  Hint: Value was of
type 'int'...") happen before a proto exists, in the gateway's transcoder; it can build them with
:func:`type_error_message`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from runstash_protos import metadata_pb2 as pb

from runstash_metadata.validation_common import (
    MAX_DOUBLE,
    check_entity_key,
    check_param_value_length,
    check_run_id_format,
    check_tag_value_length,
    invalid_value_message,
    is_missing,
    missing_value_message,
    normalize_metric_value,
    parse_experiment_id,
    parse_experiment_ids,
    require,
    require_run_id,
    run_id_of,
    truncation_enabled,
    type_error_message,
)
from runstash_metadata.validation_experiments import (
    check_artifact_location,
    check_create_experiment,
    check_custom_view_tag_write,
    check_delete_experiment,
    check_delete_experiment_tag,
    check_experiment_name,
    check_experiment_tag,
    check_get_experiment,
    check_get_experiment_by_name,
    check_restore_experiment,
    check_search_datasets,
    check_search_experiments,
    check_set_experiment_tag,
    check_update_experiment,
    is_custom_view_tag,
)
from runstash_metadata.validation_import import (
    check_import_experiment,
    check_import_logged_model,
    check_import_metrics,
    check_import_registry_times,
    check_import_run,
)
from runstash_metadata.validation_models import (
    check_create_logged_model,
    check_delete_logged_model,
    check_delete_logged_model_tag,
    check_finalize_logged_model,
    check_get_logged_model,
    check_log_logged_model_params,
    check_logged_model_name,
    check_search_logged_models,
    check_set_logged_model_tags,
    experiment_ids_required_message,
)
from runstash_metadata.validation_runs import (
    check_create_run,
    check_dataset,
    check_delete_run,
    check_delete_tag,
    check_get_metric_history,
    check_get_metric_history_bulk,
    check_get_metric_history_bulk_interval,
    check_get_run,
    check_input_tag,
    check_log_batch,
    check_log_inputs,
    check_log_metric,
    check_log_model,
    check_log_outputs,
    check_log_param,
    check_metric,
    check_param,
    check_restore_run,
    check_run_tag,
    check_search_runs,
    check_set_tag,
    check_update_run,
    history_bulk_max_results,
)

# Request message type -> its check, for callers that dispatch generically (interceptors, tests).
CHECKS: dict[type[Message], Callable[[Any], None]] = {
    pb.CreateExperiment: check_create_experiment,
    pb.SearchExperiments: check_search_experiments,
    pb.GetExperiment: check_get_experiment,
    pb.GetExperimentByName: check_get_experiment_by_name,
    pb.DeleteExperiment: check_delete_experiment,
    pb.RestoreExperiment: check_restore_experiment,
    pb.UpdateExperiment: check_update_experiment,
    pb.SetExperimentTag: check_set_experiment_tag,
    pb.DeleteExperimentTag: check_delete_experiment_tag,
    pb.SearchDatasets: check_search_datasets,
    pb.CreateRun: check_create_run,
    pb.UpdateRun: check_update_run,
    pb.DeleteRun: check_delete_run,
    pb.RestoreRun: check_restore_run,
    pb.GetRun: check_get_run,
    pb.SearchRuns: check_search_runs,
    pb.LogMetric: check_log_metric,
    pb.LogParam: check_log_param,
    pb.SetTag: check_set_tag,
    pb.DeleteTag: check_delete_tag,
    pb.LogBatch: check_log_batch,
    pb.LogModel: check_log_model,
    pb.LogInputs: check_log_inputs,
    pb.LogOutputs: check_log_outputs,
    pb.GetMetricHistory: check_get_metric_history,
    pb.GetMetricHistoryBulkInterval: check_get_metric_history_bulk_interval,
    pb.GetMetricHistoryBulk: check_get_metric_history_bulk,
    pb.CreateLoggedModel: check_create_logged_model,
    pb.GetLoggedModel: check_get_logged_model,
    pb.FinalizeLoggedModel: check_finalize_logged_model,
    pb.DeleteLoggedModel: check_delete_logged_model,
    pb.SearchLoggedModels: check_search_logged_models,
    pb.SetLoggedModelTags: check_set_logged_model_tags,
    pb.DeleteLoggedModelTag: check_delete_logged_model_tag,
    pb.LogLoggedModelParams: check_log_logged_model_params,
    pb.ImportExperiment: check_import_experiment,
    pb.ImportRun: check_import_run,
    pb.ImportLoggedModel: check_import_logged_model,
    pb.ImportMetrics: check_import_metrics,
    pb.ImportRegistryTimes: check_import_registry_times,
}


def check_request(request: Message) -> None:
    """Run the check registered for ``request``'s type (no-op for types without one).

    CreateExperiment is checked without trusted artifact roots here; a servicer that knows its
    roots calls :func:`check_create_experiment` directly.
    """
    check = CHECKS.get(type(request))
    if check is not None:
        check(request)


__all__ = [
    "CHECKS",
    "MAX_DOUBLE",
    "check_artifact_location",
    "check_create_experiment",
    "check_create_logged_model",
    "check_create_run",
    "check_custom_view_tag_write",
    "check_dataset",
    "check_delete_experiment",
    "check_delete_experiment_tag",
    "check_delete_logged_model",
    "check_delete_logged_model_tag",
    "check_delete_run",
    "check_delete_tag",
    "check_entity_key",
    "check_experiment_name",
    "check_experiment_tag",
    "check_finalize_logged_model",
    "check_get_experiment",
    "check_get_experiment_by_name",
    "check_get_logged_model",
    "check_get_metric_history",
    "check_get_metric_history_bulk",
    "check_get_metric_history_bulk_interval",
    "check_get_run",
    "check_input_tag",
    "check_log_batch",
    "check_log_inputs",
    "check_log_logged_model_params",
    "check_log_metric",
    "check_log_model",
    "check_log_outputs",
    "check_log_param",
    "check_logged_model_name",
    "check_metric",
    "check_param",
    "check_param_value_length",
    "check_request",
    "check_restore_experiment",
    "check_restore_run",
    "check_run_id_format",
    "check_run_tag",
    "check_search_datasets",
    "check_search_experiments",
    "check_search_logged_models",
    "check_search_runs",
    "check_set_experiment_tag",
    "check_set_logged_model_tags",
    "check_set_tag",
    "check_tag_value_length",
    "check_update_experiment",
    "check_update_run",
    "experiment_ids_required_message",
    "history_bulk_max_results",
    "invalid_value_message",
    "is_custom_view_tag",
    "is_missing",
    "missing_value_message",
    "normalize_metric_value",
    "parse_experiment_id",
    "parse_experiment_ids",
    "require",
    "require_run_id",
    "run_id_of",
    "truncation_enabled",
    "type_error_message",
]
