"""The import RPCs of the metadata service (administrators only, see the protos): records of
another tracking server upserted with their own ids and timestamps."""

from __future__ import annotations

from typing import Any

from runstash_protos import metadata_pb2 as pb

from runstash_metadata.store import imports
from runstash_metadata.store import schema as s
from runstash_metadata.store.database import Database
from runstash_metadata.store.points import DuplicatePoints
from runstash_metadata.validation_import import (
    check_import_experiment,
    check_import_logged_model,
    check_import_metrics,
    check_import_registry_times,
    check_import_run,
)


def _or_none(message: Any, field: str) -> Any:
    return getattr(message, field) if message.HasField(field) else None


def run_values(request: pb.ImportRun) -> dict[str, Any]:
    info = request.info
    return {
        "run_uuid": info.run_id or info.run_uuid,
        "name": info.run_name,
        "experiment_id": int(info.experiment_id),
        "user_id": info.user_id,
        "status": pb.RunStatus.Name(info.status) if info.HasField("status") else "RUNNING",
        "start_time": _or_none(info, "start_time"),
        "end_time": _or_none(info, "end_time"),
        "lifecycle_stage": info.lifecycle_stage or s.ACTIVE,
        "artifact_uri": info.artifact_uri,
        "deleted_time": _or_none(request, "deleted_time"),
    }


def model_values(request: pb.ImportLoggedModel) -> dict[str, Any]:
    info = request.info
    return {
        "model_id": info.model_id,
        "experiment_id": int(info.experiment_id),
        "name": info.name,
        "artifact_location": info.artifact_uri,
        "status": info.status or pb.LOGGED_MODEL_PENDING,
        "lifecycle_stage": request.lifecycle_stage or s.ACTIVE,
        "model_type": info.model_type,
        "source_run_id": info.source_run_id,
        "status_message": _or_none(info, "status_message"),
        "creation_timestamp_ms": info.creation_timestamp_ms,
        "last_updated_timestamp_ms": info.last_updated_timestamp_ms,
    }


class ImportRpcs:
    """Mixed into the metadata servicer."""

    db: Database

    def ImportExperiment(self, request: pb.ImportExperiment, context: Any) -> pb.ImportExperiment.Response:
        check_import_experiment(request)
        values = {
            "name": request.name,
            "artifact_location": request.artifact_location,
            "lifecycle_stage": request.lifecycle_stage or s.ACTIVE,
            "creation_time": _or_none(request, "creation_time"),
            "last_update_time": _or_none(request, "last_update_time"),
        }
        tags = [(t.key, t.value) for t in request.tags]
        with self.db.transaction() as conn:
            created = imports.import_experiment(conn, self.db.q, int(request.experiment_id), values, tags)
        return pb.ImportExperiment.Response(created=created)

    def ImportRun(self, request: pb.ImportRun, context: Any) -> pb.ImportRun.Response:
        check_import_run(request)
        params = [(p.key, p.value) for p in request.params]
        tags = [(t.key, t.value) for t in request.tags]
        with self.db.transaction() as conn:
            created = imports.import_run(conn, self.db.q, run_values(request), params, tags)
        return pb.ImportRun.Response(created=created)

    def ImportLoggedModel(self, request: pb.ImportLoggedModel, context: Any) -> pb.ImportLoggedModel.Response:
        check_import_logged_model(request)
        params = [(p.key, p.value) for p in request.params]
        tags = [(t.key, t.value) for t in request.info.tags]
        with self.db.transaction() as conn:
            created = imports.import_logged_model(conn, self.db.q, model_values(request), params, tags)
        return pb.ImportLoggedModel.Response(created=created)

    def ImportMetrics(self, request: pb.ImportMetrics, context: Any) -> pb.ImportMetrics.Response:
        check_import_metrics(request)
        columns = (request.values, request.timestamps, request.steps)
        args = (self.db.q, request.run_id, request.key, columns)
        try:  # optimistic first (a fresh run holds none of these points), like log-batch
            with self.db.transaction() as conn:
                written = imports.import_metric_points(conn, *args, dedupe=False)
        except DuplicatePoints:  # a resent chunk: the points already stored are skipped
            with self.db.transaction() as conn:
                written = imports.import_metric_points(conn, *args, dedupe=True)
        return pb.ImportMetrics.Response(points=written)

    def ImportRegistryTimes(
        self, request: pb.ImportRegistryTimes, context: Any
    ) -> pb.ImportRegistryTimes.Response:
        check_import_registry_times(request)
        model_times = (
            _or_none(request, "creation_timestamp"),
            _or_none(request, "last_updated_timestamp"),
        )
        versions = [
            (v.version, _or_none(v, "creation_timestamp"), _or_none(v, "last_updated_timestamp"))
            for v in request.versions
        ]
        with self.db.transaction() as conn:
            imports.set_registry_times(conn, request.name, model_times, versions)
        return pb.ImportRegistryTimes.Response()
