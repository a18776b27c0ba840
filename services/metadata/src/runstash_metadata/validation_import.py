"""Checks of the import RPCs (administrators' upserts keeping ids; see store/imports.py)."""

from __future__ import annotations

from runstash_protos import metadata_pb2 as pb

from runstash_metadata.store import schema as s
from runstash_metadata.validation_common import check_run_id_format, invalid, parse_experiment_id, require

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
