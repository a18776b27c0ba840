"""Checks of the import RPCs (administrators' upserts keeping ids; see store/imports.py)."""

from __future__ import annotations

from runstash_protos import metadata_pb2 as pb

from runstash_metadata.store import schema as s
from runstash_metadata.validation_common import check_run_id_format, invalid, parse_experiment_id, require
from runstash_metadata.validation_runs import check_metric

_STAGES = (s.ACTIVE, s.DELETED)


def _stage(value: str) -> None:
    if value and value not in _STAGES:
        raise invalid(f"Invalid lifecycle_stage '{value}': one of {', '.join(_STAGES)}.")


def check_import_experiment(request: pb.ImportExperiment) -> None:
    require(request, "experiment_id")
    require(request, "name")
    parse_experiment_id(request.experiment_id)
    _stage(request.lifecycle_stage)


def check_import_run(request: pb.ImportRun) -> None:
    info = request.info
    run_id = info.run_id or info.run_uuid
    if not run_id:
        raise invalid("Missing value for required parameter 'info.run_id'.")
    check_run_id_format(run_id, "info.run_id")
    require(info, "experiment_id", path="info.experiment_id")
    parse_experiment_id(info.experiment_id)
    _stage(info.lifecycle_stage)


def check_import_logged_model(request: pb.ImportLoggedModel) -> None:
    require(request.info, "model_id", path="info.model_id")
    require(request.info, "experiment_id", path="info.experiment_id")
    parse_experiment_id(request.info.experiment_id)
    _stage(request.lifecycle_stage)


MAX_IMPORT_POINTS = 100_000


def check_import_metrics(request: pb.ImportMetrics) -> None:
    require(request, "run_id")
    check_run_id_format(request.run_id, "run_id")
    require(request, "key")
    n = len(request.values)
    if len(request.timestamps) != n or len(request.steps) != n:
        raise invalid(
            f"values, timestamps and steps must have one entry per point: got {n}, "
            f"{len(request.timestamps)} and {len(request.steps)}."
        )
    if n > MAX_IMPORT_POINTS:
        raise invalid(f"An import request takes at most {MAX_IMPORT_POINTS} points; got {n}.")
    # The key once, the timestamps by their minimum: log-batch's checks without a pass per point.
    check_metric(request.key, request.values[0] if n else 0.0, min(request.timestamps, default=0))


def check_import_registry_times(request: pb.ImportRegistryTimes) -> None:
    require(request, "name")
    for version in request.versions:
        if not version.version.isdigit():
            raise invalid(f"Invalid version '{version.version}': a positive integer.")
