"""The metadata service's gRPC servicer: validate the request, open the transaction, call the
store functions, shape the response.

Each method raises :class:`~runstash_protos.errors.RunstashError` on failure (never
``context.abort``): the error interceptor of :mod:`runstash_protos.rpc` maps it to a gRPC status,
and the in-process gateway sees the same exception. ``context`` is never used, so callers may pass
any stub object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from runstash_protos import metadata_pb2 as pb
from runstash_protos import metadata_pb2_grpc
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from runstash_metadata import validation as v
from runstash_metadata.import_rpcs import ImportRpcs
from runstash_metadata.present_empty import present_empty_fields
from runstash_metadata.servicer_logged_models import LoggedModelRpcs, pairs
from runstash_metadata.settings import MetadataSettings
from runstash_metadata.store import (
    chart_history,
    experiments,
    history,
    inputs,
    metrics,
    runs,
    sampled_history,
    stream_points,
)
from runstash_metadata.store.database import Database
from runstash_metadata.store.metrics import MetricPoint
from runstash_metadata.store.points import DuplicatePoints, MetricLike, Points
from runstash_metadata.store.single_writes import SingleWrites
from runstash_metadata.store.stats import StatsRefresher

DEFAULT_BULK_INTERVAL_RESULTS = 2500
DEFAULT_CHART_POINTS = 500


class MetadataServicer(ImportRpcs, LoggedModelRpcs, metadata_pb2_grpc.MetadataServiceServicer):
    """Implements every RPC of ``runstash.metadata.MetadataService`` over one tracking database.

    Owns what it starts: the group-commit writer, the statistics refresher and (when built by
    :meth:`open`) the database; :meth:`close` releases them.
    """

    def __init__(self, db: Database, settings: MetadataSettings) -> None:
        self.db = db
        self.settings = settings
        self._single = SingleWrites(db)
        self._stats = StatsRefresher(db)
        self._ensure_default_experiment()

    @classmethod
    def open(cls, settings: MetadataSettings) -> MetadataServicer:
        """Open (and migrate) the settings' database and serve it."""
        db = Database.open(settings.backend_store_uri)
        try:
            return cls(db, settings)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        self._stats.close()
        self.db.close()

    def _ensure_default_experiment(self) -> None:
        try:
            with self.db.transaction() as conn:
                experiments.ensure_default_experiment(conn, self.db.q, self.settings.default_artifact_root)
        except IntegrityError:
            pass  # another replica created it concurrently

    # ------------------------------------------------------------------ experiments

    def CreateExperiment(self, request: pb.CreateExperiment, context: Any) -> pb.CreateExperiment.Response:
        v.check_create_experiment(
            request,
            trusted_artifact_roots=[self.settings.default_artifact_root],
            settings=self.settings.validation,
        )
        with self.db.transaction() as conn:
            experiment_id = experiments.create_experiment(
                conn,
                self.db.q,
                request.name,
                artifact_root=self.settings.default_artifact_root,
                artifact_location=request.artifact_location or None,
                tags=pairs(request.tags),
            )
        return pb.CreateExperiment.Response(experiment_id=experiment_id)

    def SearchExperiments(self, request: pb.SearchExperiments, context: Any) -> pb.SearchExperiments.Response:
        v.check_search_experiments(request)
        view_type = request.view_type if request.HasField("view_type") else pb.ACTIVE_ONLY
        with self.db.reader() as conn:
            found, token = experiments.search_experiments(
                conn,
                view_type=view_type,
                max_results=request.max_results,
                filter_string=request.filter,
                order_by=list(request.order_by),
                page_token=request.page_token or None,
            )
        return pb.SearchExperiments.Response(experiments=found, next_page_token=token)

    def GetExperiment(self, request: pb.GetExperiment, context: Any) -> pb.GetExperiment.Response:
        v.check_get_experiment(request)
        with self.db.reader() as conn:
            experiment = experiments.get_experiment(conn, v.parse_experiment_id(request.experiment_id))
        return pb.GetExperiment.Response(experiment=experiment)

    def GetExperimentByName(
        self, request: pb.GetExperimentByName, context: Any
    ) -> pb.GetExperimentByName.Response:
        v.check_get_experiment_by_name(request)
        with self.db.reader() as conn:
            experiment = experiments.get_experiment_by_name(conn, request.experiment_name)
        return pb.GetExperimentByName.Response(experiment=experiment)

    def DeleteExperiment(self, request: pb.DeleteExperiment, context: Any) -> pb.DeleteExperiment.Response:
        v.check_delete_experiment(request)
        with self.db.transaction() as conn:
            experiments.set_experiment_stage(conn, v.parse_experiment_id(request.experiment_id), deleted=True)
        return pb.DeleteExperiment.Response()

    def RestoreExperiment(self, request: pb.RestoreExperiment, context: Any) -> pb.RestoreExperiment.Response:
        v.check_restore_experiment(request)
        with self.db.transaction() as conn:
            experiments.set_experiment_stage(
                conn, v.parse_experiment_id(request.experiment_id), deleted=False
            )
        return pb.RestoreExperiment.Response()

    def UpdateExperiment(self, request: pb.UpdateExperiment, context: Any) -> pb.UpdateExperiment.Response:
        v.check_update_experiment(request)
        with self.db.transaction() as conn:
            experiments.rename_experiment(
                conn, v.parse_experiment_id(request.experiment_id), request.new_name
            )
        return pb.UpdateExperiment.Response()

    def SetExperimentTag(self, request: pb.SetExperimentTag, context: Any) -> pb.SetExperimentTag.Response:
        v.check_set_experiment_tag(request)
        experiment_id = v.parse_experiment_id(request.experiment_id)
        with self.db.transaction() as conn:
            experiments.set_experiment_tag(conn, self.db.q, experiment_id, request.key, request.value)
        return pb.SetExperimentTag.Response()

    def DeleteExperimentTag(
        self, request: pb.DeleteExperimentTag, context: Any
    ) -> pb.DeleteExperimentTag.Response:
        v.check_delete_experiment_tag(request)
        with self.db.transaction() as conn:
            experiments.delete_experiment_tag(conn, v.parse_experiment_id(request.experiment_id), request.key)
        return pb.DeleteExperimentTag.Response()

    def SearchDatasets(self, request: pb.SearchDatasets, context: Any) -> pb.SearchDatasets.Response:
        v.check_search_datasets(request)
        with self.db.reader() as conn:
            summaries = inputs.search_datasets(conn, v.parse_experiment_ids(request.experiment_ids))
        return pb.SearchDatasets.Response(dataset_summaries=summaries)

    # ------------------------------------------------------------------ runs

    def CreateRun(self, request: pb.CreateRun, context: Any) -> pb.CreateRun.Response:
        v.check_create_run(request)
        with self.db.transaction() as conn:
            run = runs.create_run(
                conn,
                self.db.q,
                v.parse_experiment_id(request.experiment_id),
                user_id=request.user_id,
                start_time=request.start_time,
                run_name=request.run_name or None,
                tags=pairs(request.tags),
            )
        self._stats.wrote()
        return pb.CreateRun.Response(run=run)

    def UpdateRun(self, request: pb.UpdateRun, context: Any) -> pb.UpdateRun.Response:
        v.check_update_run(request)
        with self.db.transaction() as conn:
            info = runs.update_run(
                conn,
                self.db.q,
                v.run_id_of(request),
                status=pb.RunStatus.Name(request.status) if request.HasField("status") else None,
                end_time=request.end_time if request.HasField("end_time") else None,
                run_name=request.run_name or None,
            )
        return pb.UpdateRun.Response(run_info=info)

    def DeleteRun(self, request: pb.DeleteRun, context: Any) -> pb.DeleteRun.Response:
        v.check_delete_run(request)
        with self.db.transaction() as conn:
            runs.set_run_stage(conn, request.run_id, deleted=True)
        return pb.DeleteRun.Response()

    def RestoreRun(self, request: pb.RestoreRun, context: Any) -> pb.RestoreRun.Response:
        v.check_restore_run(request)
        with self.db.transaction() as conn:
            runs.set_run_stage(conn, request.run_id, deleted=False)
        return pb.RestoreRun.Response()

    def GetRun(self, request: pb.GetRun, context: Any) -> pb.GetRun.Response:
        v.check_get_run(request)
        with self.db.reader() as conn:
            return pb.GetRun.Response(run=runs.get_run(conn, self.db.q, v.run_id_of(request)))

    def SearchRuns(self, request: pb.SearchRuns, context: Any) -> pb.SearchRuns.Response:
        v.check_search_runs(request)
        response = pb.SearchRuns.Response()
        with self.db.reader() as conn:
            _, token = runs.search_runs(
                conn,
                self.db.q,
                v.parse_experiment_ids(request.experiment_ids),
                filter_string=request.filter,
                view_type=request.run_view_type,
                max_results=request.max_results,
                order_by=list(request.order_by),
                page_token=request.page_token or None,
                out=response.runs,
            )
        if token is not None:
            response.next_page_token = token
        return response

    def LogMetric(self, request: pb.LogMetric, context: Any) -> pb.LogMetric.Response:
        v.check_log_metric(request)
        run_id = v.run_id_of(request)
        if request.model_id:  # model metrics take the batch path (one more table)
            self._log_batch(run_id, [MetricPoint.from_proto(request)], (), ())
        else:
            self._single.log_metric(run_id, request.key, request.value, request.timestamp, request.step)
        return pb.LogMetric.Response()

    def LogParam(self, request: pb.LogParam, context: Any) -> pb.LogParam.Response:
        v.check_log_param(request, self.settings.validation)
        self._single.log_param(v.run_id_of(request), request.key, request.value)
        return pb.LogParam.Response()

    def SetTag(self, request: pb.SetTag, context: Any) -> pb.SetTag.Response:
        v.check_set_tag(request, self.settings.validation)
        self._single.set_tag(v.run_id_of(request), request.key, request.value)
        return pb.SetTag.Response()

    def DeleteTag(self, request: pb.DeleteTag, context: Any) -> pb.DeleteTag.Response:
        v.check_delete_tag(request)
        with self.db.transaction() as conn:
            runs.delete_tag(conn, request.run_id, request.key)
        return pb.DeleteTag.Response()

    def LogBatch(self, request: pb.LogBatch, context: Any) -> pb.LogBatch.Response:
        v.check_log_batch(request, self.settings.validation)
        self._log_batch(request.run_id, request.metrics, pairs(request.params), pairs(request.tags))
        return pb.LogBatch.Response()

    def LogModel(self, request: pb.LogModel, context: Any) -> pb.LogModel.Response:
        v.check_log_model(request)
        with self.db.transaction() as conn:
            runs.log_model(conn, self.db.q, request.run_id, json.loads(request.model_json))
        return pb.LogModel.Response()

    def LogInputs(self, request: pb.LogInputs, context: Any) -> pb.LogInputs.Response:
        v.check_log_inputs(request)
        with self.db.transaction() as conn:
            inputs.log_inputs(
                conn,
                self.db.q,
                request.run_id,
                datasets=list(request.datasets),
                models=[m.model_id for m in request.models],
            )
        return pb.LogInputs.Response()

    def LogOutputs(self, request: pb.LogOutputs, context: Any) -> pb.LogOutputs.Response:
        v.check_log_outputs(request, present_empty_fields(context))
        with self.db.transaction() as conn:
            inputs.log_outputs(
                conn, self.db.q, request.run_id, [(m.model_id, m.step) for m in request.models]
            )
        return pb.LogOutputs.Response()

    def log_metrics(self, run_id: str, points: Sequence[MetricLike]) -> None:
        """Metrics of one run in one transaction (the ingest stream's grouped batches)."""
        self._log_batch(run_id, points, [], [])

    def log_points(self, run_id: str, points: Points) -> None:
        """Plain points of one run column-wise in one transaction, by the bulk-load path (the
        ingest stream's grouped column batches)."""
        self._deduping(
            lambda conn, dedupe: stream_points.log_points(conn, self.db.q, run_id, points, dedupe=dedupe)
        )

    def _log_batch(
        self,
        run_id: str,
        points: Sequence[MetricLike],
        params: Sequence[tuple[str, str]],
        tags: Sequence[tuple[str, str]],
    ) -> None:
        """One transaction, all or nothing."""
        self._deduping(
            lambda conn, dedupe: metrics.log_batch(
                conn, self.db.q, run_id, metrics=points, params=params, tags=tags, dedupe=dedupe
            )
        )

    def _deduping(self, write: Callable[[Connection, bool], None]) -> None:
        """``write(conn, dedupe)`` in a transaction; if it met a point already stored (it raised
        DuplicatePoints: see ``Queries.write_points``), again in a new one, skipping stored points."""
        try:
            with self.db.transaction() as conn:
                write(conn, False)
        except DuplicatePoints:
            with self.db.transaction() as conn:
                write(conn, True)
        self._stats.wrote()

    # ------------------------------------------------------------------ metric history

    def GetMetricHistory(self, request: pb.GetMetricHistory, context: Any) -> pb.GetMetricHistory.Response:
        v.check_get_metric_history(request)
        response = pb.GetMetricHistory.Response()
        with self.db.reader() as conn:
            _, token = history.get_metric_history(
                conn,
                self.db.q,
                v.run_id_of(request),
                request.metric_key,
                max_results=request.max_results if request.HasField("max_results") else None,
                page_token=request.page_token or None,
                out=response.metrics,
            )
        if token is not None:
            response.next_page_token = token
        return response

    def GetMetricHistoryBulkInterval(
        self, request: pb.GetMetricHistoryBulkInterval, context: Any
    ) -> pb.GetMetricHistoryBulkInterval.Response:
        v.check_get_metric_history_bulk_interval(request)
        has_steps = request.HasField("start_step") and request.HasField("end_step")
        response = pb.GetMetricHistoryBulkInterval.Response()
        with self.db.reader() as conn:
            sampled_history.bulk_interval(
                conn,
                self.db.q,
                list(request.run_ids),
                request.metric_key,
                request.max_results if request.HasField("max_results") else DEFAULT_BULK_INTERVAL_RESULTS,
                start_step=request.start_step if has_steps else None,
                end_step=request.end_step if has_steps else None,
                out=response.metrics,
            )
        return response

    def GetChartHistories(self, request: pb.GetChartHistories, context: Any) -> pb.GetChartHistories.Response:
        v.check_get_chart_histories(request)
        has_steps = request.HasField("start_step") and request.HasField("end_step")
        budget = request.max_results if request.HasField("max_results") else DEFAULT_CHART_POINTS
        response = pb.GetChartHistories.Response()
        with self.db.reader() as conn:
            for key in dict.fromkeys(request.metric_keys):
                per_run = chart_history.key_series(
                    conn,
                    self.db.q,
                    list(request.run_ids),
                    key,
                    budget,
                    request.start_step if has_steps else None,
                    request.end_step if has_steps else None,
                )
                for run_id, points in per_run.items():
                    response.series.add(metric_key=key, run_id=run_id, **chart_history.columns(points))
        return response

    def GetMetricHistoryBulk(
        self, request: pb.GetMetricHistoryBulk, context: Any
    ) -> pb.GetMetricHistoryBulk.Response:
        v.check_get_metric_history_bulk(request)
        with self.db.reader() as conn:
            points = history.history_bulk(
                conn, list(request.run_id), request.metric_key, v.history_bulk_max_results(request)
            )
        return pb.GetMetricHistoryBulk.Response(metrics=points)
