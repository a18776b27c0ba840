"""Request checks for the logged-model RPCs (limits.md §8).

MLflow validates little here beyond required fields and the model name; logged-model params and
tags have no key rule. The REST routes carry ``model_id`` in the path, so the gateway always sets
it; the checks still matter for gRPC callers.
"""

from __future__ import annotations

from collections.abc import Collection

from runstash_protos import metadata_pb2 as pb

from runstash_metadata.validation_common import (
    invalid,
    missing_value_message,
    non_positive_max_results_message,
    parse_experiment_id,
    parse_experiment_ids,
    require,
)

LOGGED_MODEL_NAME_BAD_CHARS = ("/", ":", ".", "%", '"', "'")


def check_logged_model_name(name: str) -> None:
    """A client-chosen logged-model name. Empty passes: MLflow treats "" as absent and generates one."""
    if not any(c in name for c in LOGGED_MODEL_NAME_BAD_CHARS):
        return
    # Python reprs on purpose: the reference server's message quotes with repr() ("a'b" -> "a'b").
    raise invalid(
        f"Invalid model name ({name!r}) provided. Model name must be a non-empty string and cannot"
        f" contain the following characters: {LOGGED_MODEL_NAME_BAD_CHARS}"
    )


def check_create_logged_model(request: pb.CreateLoggedModel) -> None:
    require(request, "experiment_id")
    check_logged_model_name(request.name)
    parse_experiment_id(request.experiment_id)


def check_get_logged_model(request: pb.GetLoggedModel) -> None:
    require(request, "model_id")


def check_finalize_logged_model(request: pb.FinalizeLoggedModel) -> None:
    # Any enum value is accepted once present, LOGGED_MODEL_STATUS_UNSPECIFIED included (as MLflow).
    require(request, "model_id")
    require(request, "status")


def check_delete_logged_model(request: pb.DeleteLoggedModel) -> None:
    require(request, "model_id")


def check_set_logged_model_tags(request: pb.SetLoggedModelTags) -> None:
    require(request, "model_id")


def check_delete_logged_model_tag(request: pb.DeleteLoggedModelTag) -> None:
    require(request, "model_id")
    require(request, "tag_key")


def check_log_logged_model_params(request: pb.LogLoggedModelParams) -> None:
    require(request, "model_id")


def check_search_logged_models(
    request: pb.SearchLoggedModels, present_empty: Collection[str] = frozenset()
) -> None:
    """Request-level rules. ``experiment_ids`` is required: absent is MLflow's 400, an explicit
    ``[]`` (named in ``present_empty``, see :mod:`.present_empty`) an empty page. Filter,
    order-by field names and page tokens are the search module's."""
    if not request.experiment_ids and "experiment_ids" not in present_empty:
        raise invalid(missing_value_message("experiment_ids"))
    if any(not dataset.dataset_name for dataset in request.datasets):
        raise invalid("`dataset_name` in the `datasets` clause must be specified.")
    parse_experiment_ids(request.experiment_ids)
    for order_by in request.order_by:
        if not order_by.field_name:
            # Observed wording for a missing field_name (MLflow reads it as "").
            raise invalid("Invalid order by field name: ")
    # 0 means the default (50). MLflow passes a negative value to LIMIT (SQLite: unlimited,
    # PostgreSQL: error -> 500); reject it instead.
    if request.max_results < 0:
        raise invalid(non_positive_max_results_message(request.max_results))


def experiment_ids_required_message() -> str:
    """For the gateway: search-logged-models without an ``experiment_ids`` key."""
    return missing_value_message("experiment_ids")
