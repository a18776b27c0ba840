"""The store's resource functions behind one object, for tests that exercise store semantics.

Each method is one transaction (or one read) around one store function, as the servicer calls
them; the tests assert on what the functions return and raise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runstash_metadata.store import (
    experiments,
    history,
    inputs,
    logged_models,
    metrics,
    runs,
    sampled_history,
)
from runstash_metadata.store.database import Database
from runstash_metadata.store.metrics import MetricPoint
from runstash_metadata.store.points import DuplicatePoints, MetricLike
from runstash_metadata.store.single_writes import SingleWrites
from runstash_protos import metadata_pb2 as pb
from sqlalchemy.exc import IntegrityError


class StoreDriver:
    def __init__(self, db: Database, artifact_root: str) -> None:
        self.db = db
        self.q = db.q
        self.artifact_root = artifact_root
        self.single = SingleWrites(db)
        try:
            with db.transaction() as conn:
                experiments.ensure_default_experiment(conn, db.q, artifact_root)
        except IntegrityError:
            pass

    @classmethod
    def open(cls, uri: str, artifact_root: str) -> StoreDriver:
        return cls(Database.open(uri), artifact_root)

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[tuple[str, str]] = ()
    ) -> str:
        with self.db.transaction() as conn:
            return experiments.create_experiment(
                conn,
                self.q,
                name,
                artifact_root=self.artifact_root,
                artifact_location=artifact_location,
                tags=tags,
            )

    def get_experiment(self, experiment_id: int) -> pb.Experiment:
        with self.db.reader() as conn:
            return experiments.get_experiment(conn, experiment_id)

    def get_experiment_by_name(self, name: str) -> pb.Experiment:
        with self.db.reader() as conn:
            return experiments.get_experiment_by_name(conn, name)

    def delete_experiment(self, experiment_id: int) -> None:
        with self.db.transaction() as conn:
            experiments.set_experiment_stage(conn, experiment_id, deleted=True)

    def restore_experiment(self, experiment_id: int) -> None:
        with self.db.transaction() as conn:
            experiments.set_experiment_stage(conn, experiment_id, deleted=False)

    def rename_experiment(self, experiment_id: int, new_name: str) -> None:
        with self.db.transaction() as conn:
            experiments.rename_experiment(conn, experiment_id, new_name)

    def set_experiment_tag(self, experiment_id: int, key: str, value: str) -> None:
        with self.db.transaction() as conn:
            experiments.set_experiment_tag(conn, self.q, experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: int, key: str) -> None:
        with self.db.transaction() as conn:
            experiments.delete_experiment_tag(conn, experiment_id, key)

    def search_experiments(
        self,
        view_type: int,
        max_results: int,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> tuple[list[pb.Experiment], str | None]:
        with self.db.reader() as conn:
            return experiments.search_experiments(
                conn,
                view_type=view_type,
                max_results=max_results,
                filter_string=filter_string,
                order_by=order_by,
                page_token=page_token,
            )

    # ---------------------------------------------------------------- runs

    def create_run(
        self,
        experiment_id: int,
        user_id: str = "",
        start_time: int = 0,
        run_name: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> pb.Run:
        with self.db.transaction() as conn:
            return runs.create_run(
                conn,
                self.q,
                experiment_id,
                user_id=user_id,
                start_time=start_time,
                run_name=run_name,
                tags=tags,
            )

    def update_run(
        self, run_id: str, status: str | None = None, end_time: int | None = None, run_name: str | None = None
    ) -> pb.RunInfo:
        with self.db.transaction() as conn:
            return runs.update_run(conn, self.q, run_id, status=status, end_time=end_time, run_name=run_name)

    def delete_run(self, run_id: str) -> None:
        with self.db.transaction() as conn:
            runs.set_run_stage(conn, run_id, deleted=True)

    def restore_run(self, run_id: str) -> None:
        with self.db.transaction() as conn:
            runs.set_run_stage(conn, run_id, deleted=False)

    def get_run(self, run_id: str) -> pb.Run:
        with self.db.reader() as conn:
            return runs.get_run(conn, self.q, run_id)

    def search_runs(
        self, experiment_ids: Sequence[int], **kwargs: Any
    ) -> tuple[Sequence[pb.Run], str | None]:
        with self.db.reader() as conn:
            return runs.search_runs(conn, self.q, experiment_ids, **kwargs)

    def log_metric(self, run_id: str, metric: MetricPoint) -> None:
        if metric.model_id:
            self.log_batch(run_id, metrics=[metric])
            return
        self.single.log_metric(run_id, metric.key, metric.value, metric.timestamp, metric.step)

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self.single.log_param(run_id, key, value)

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.single.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.db.transaction() as conn:
            runs.delete_tag(conn, run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricLike] = (),
        params: Sequence[tuple[str, str]] = (),
        tags: Sequence[tuple[str, str]] = (),
    ) -> None:
        try:
            with self.db.transaction() as conn:
                _log_batch(conn, self.q, run_id, metrics, params, tags, dedupe=False)
        except DuplicatePoints:
            with self.db.transaction() as conn:
                _log_batch(conn, self.q, run_id, metrics, params, tags, dedupe=True)

    def log_model(self, run_id: str, model: Mapping[str, Any]) -> None:
        with self.db.transaction() as conn:
            runs.log_model(conn, self.q, run_id, model)

    def log_inputs(
        self, run_id: str, datasets: Sequence[pb.DatasetInput] = (), models: Sequence[str] = ()
    ) -> None:
        with self.db.transaction() as conn:
            inputs.log_inputs(conn, self.q, run_id, datasets=datasets, models=models)

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        with self.db.transaction() as conn:
            inputs.log_outputs(conn, self.q, run_id, models)

    def search_datasets(self, experiment_ids: Sequence[int]) -> list[pb.DatasetSummary]:
        with self.db.reader() as conn:
            return inputs.search_datasets(conn, experiment_ids)

    # ---------------------------------------------------------------- history

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> tuple[Sequence[pb.Metric], str | None]:
        with self.db.reader() as conn:
            return history.get_metric_history(conn, self.db.q, run_id, key, max_results, page_token)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> Sequence[pb.MetricWithRunId]:
        with self.db.reader() as conn:
            return sampled_history.bulk_interval(
                conn, self.db.q, run_ids, key, max_results, start_step=start_step, end_step=end_step
            )

    def get_metric_history_bulk(
        self, run_ids: Sequence[str], key: str, max_results: int
    ) -> list[pb.MetricWithRunId]:
        with self.db.reader() as conn:
            return history.history_bulk(conn, run_ids, key, max_results)

    # ---------------------------------------------------------------- logged models

    def create_logged_model(self, experiment_id: int, **kwargs: Any) -> pb.LoggedModel:
        with self.db.transaction() as conn:
            return logged_models.create_logged_model(conn, self.q, experiment_id, **kwargs)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> pb.LoggedModel:
        with self.db.reader() as conn:
            return logged_models.get_logged_model(conn, model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: int) -> pb.LoggedModel:
        with self.db.transaction() as conn:
            return logged_models.finalize_logged_model(conn, model_id, status)

    def delete_logged_model(self, model_id: str) -> None:
        with self.db.transaction() as conn:
            logged_models.delete_logged_model(conn, model_id)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
        with self.db.transaction() as conn:
            logged_models.set_logged_model_tags(conn, self.q, model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self.db.transaction() as conn:
            logged_models.delete_logged_model_tag(conn, model_id, key)

    def log_logged_model_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        with self.db.transaction() as conn:
            logged_models.log_logged_model_params(conn, self.q, model_id, params)

    def search_logged_models(
        self, experiment_ids: Sequence[int], **kwargs: Any
    ) -> tuple[list[pb.LoggedModel], str | None]:
        with self.db.reader() as conn:
            return logged_models.search_logged_models(conn, experiment_ids, **kwargs)


def _log_batch(  # noqa: PLR0917 - mirrors log_batch
    conn: Any,
    q: Any,
    run_id: str,
    points: Sequence[MetricLike],
    params: Sequence[tuple[str, str]],
    tags: Sequence[tuple[str, str]],
    *,
    dedupe: bool,
) -> None:
    metrics.log_batch(conn, q, run_id, metrics=points, params=params, tags=tags, dedupe=dedupe)
