"""Runs: create, update, delete/restore, read, search, and their params, tags and metrics."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import invalid_parameter, not_found
from sqlalchemy import Connection, delete, select, update

from runstash_metadata.names import generate_name
from runstash_metadata.store import schema as s
from runstash_metadata.store.core import StoreCore
from runstash_metadata.store.dialect import pg_text_array
from runstash_metadata.store.hydration import run_info
from runstash_metadata.store.metric_batch import DuplicatePoints, MetricLike
from runstash_metadata.store.values import (
    LOG_MODEL_HISTORY_TAG,
    PARAM_VALUE_MAX,
    RUN_NAME_TAG,
    TAG_VALUE_MAX,
    chunks,
    join_uri,
    now_ms,
)

PG_CREATE_RUN = """
WITH exp AS (SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = :eid),
run AS (
    INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time,
                      lifecycle_stage, artifact_uri)
    SELECT :rid, :name, :eid, :user_id, 'RUNNING', :start_time, NULL, 'active',
           rtrim(coalesce(exp.artifact_location, ''), '/') || '/' || :rid || '/artifacts'
    FROM exp WHERE exp.lifecycle_stage = 'active'
    RETURNING run_uuid
),
tag AS (
    INSERT INTO tags (run_uuid, key, value)
    SELECT run.run_uuid, u.key, u.value
    FROM run, unnest(CAST(:keys AS VARCHAR(250)[]), CAST(:values AS VARCHAR(8000)[])) AS u(key, value)
)
SELECT lifecycle_stage, artifact_location FROM exp
"""


PG_INSERT_PARAMS = """
INSERT INTO params (run_uuid, key, value)
SELECT :rid, u.key, u.value
FROM unnest(CAST(:keys AS VARCHAR(250)[]), CAST(:values AS VARCHAR(6000)[])) AS u(key, value)
ORDER BY u.key
ON CONFLICT (run_uuid, key) DO NOTHING
RETURNING key
"""


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One metric point as the store takes it (value may be NaN or +-inf; the store maps them)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None

    @classmethod
    def from_proto(cls, m: pb.Metric | pb.LogMetric) -> MetricPoint:
        return cls(
            key=m.key,
            value=m.value,
            timestamp=m.timestamp,
            step=m.step,
            model_id=m.model_id or None,
            dataset_name=m.dataset_name if m.HasField("dataset_name") else None,
            dataset_digest=m.dataset_digest if m.HasField("dataset_digest") else None,
        )


class RunsMixin(StoreCore):
    """The run RPCs of the tracking store (metric writes and reads delegate to their modules)."""

    def create_run(
        self,
        experiment_id: int,
        user_id: str = "",
        start_time: int = 0,
        run_name: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> pb.Run:
        tag_map: dict[str, str] = {}
        for key, value in tags:
            tag_map[key] = value[:TAG_VALUE_MAX]
        # MLflow reads the first mlflow.runName tag.
        tag_name = next((value for key, value in tags if key == RUN_NAME_TAG), None)
        if run_name and tag_name and run_name != tag_name:
            raise invalid_parameter(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{tag_name}')."
            )
        name = run_name or tag_name or generate_name()
        tag_map[RUN_NAME_TAG] = name
        run_uuid = uuid.uuid4().hex
        values = {
            "rid": run_uuid,
            "name": name,
            "eid": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
        }
        with self._engine.begin() as conn:
            if self._pg_create_run is not None:
                # One round trip: experiment check, run row and its tags (data-modifying CTEs).
                exp = conn.execute(
                    self._pg_create_run,
                    {
                        **values,
                        "keys": pg_text_array(list(tag_map)),
                        "values": pg_text_array(list(tag_map.values())),
                    },
                ).first()
                if exp is None:
                    raise not_found(f"No Experiment with id={experiment_id} exists")
                if exp.lifecycle_stage != s.ACTIVE:
                    raise invalid_parameter(
                        f"The experiment {experiment_id} must be in the 'active' state. "
                        f"Current state is {exp.lifecycle_stage}."
                    )
                artifact_uri = join_uri(exp.artifact_location or "", run_uuid, "artifacts")
            else:
                exp = self._require_active_experiment(conn, experiment_id)
                artifact_uri = join_uri(exp.artifact_location or "", run_uuid, "artifacts")
                conn.execute(self._i_run, {**values, "artifact_uri": artifact_uri})
                conn.execute(
                    self._u_tags, [{"run_uuid": run_uuid, "key": k, "value": v} for k, v in tag_map.items()]
                )
        if self._stats is not None:
            self._stats.wrote()
        run = pb.Run()
        info = run.info
        info.run_id = run_uuid
        info.run_uuid = run_uuid
        info.run_name = name
        info.experiment_id = str(experiment_id)
        info.user_id = user_id
        info.status = pb.RUNNING
        info.start_time = start_time
        info.artifact_uri = artifact_uri
        info.lifecycle_stage = s.ACTIVE
        run.data.SetInParent()
        for k in sorted(tag_map):
            run.data.tags.add(key=k, value=tag_map[k])
        run.inputs.SetInParent()
        return run

    def update_run(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> pb.RunInfo:
        r = s.runs.c
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if end_time is not None:
            values["end_time"] = end_time
        if run_name:
            values["name"] = run_name
        with self._engine.begin() as conn:
            self._require_active_run(conn, run_id)
            if values:
                conn.execute(update(s.runs).where(r.run_uuid == run_id).values(**values))
            if run_name:
                conn.execute(self._u_tags, {"run_uuid": run_id, "key": RUN_NAME_TAG, "value": run_name})
            row = conn.execute(select(s.runs).where(r.run_uuid == run_id)).one()
        return run_info(row)

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, s.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, s.ACTIVE)

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        r = s.runs.c
        deleted_time = now_ms() if stage == s.DELETED else None
        with self._engine.begin() as conn:
            result = conn.execute(
                update(s.runs)
                .where(r.run_uuid == run_id)
                .values(lifecycle_stage=stage, deleted_time=deleted_time)
            )
            if result.rowcount == 0:
                raise not_found(f"Run with id={run_id} not found")

    def get_run(self, run_id: str) -> pb.Run:
        with self._read_engine.connect() as conn:
            runs = self._hydrator.load(conn, [run_id], model_inputs=True)
        if not runs:
            raise not_found(f"Run with id={run_id} not found")
        return runs[0]

    def search_runs(
        self,
        experiment_ids: Sequence[int],
        *,
        filter_string: str = "",
        view_type: int = pb.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
        out: Any = None,
    ) -> tuple[Sequence[pb.Run], str | None]:
        """A page of runs and the next page token; ``out``: a response's repeated ``runs`` field
        to fill in place (see :mod:`.hydration`)."""
        if not experiment_ids:
            return [], None
        run_search = importlib.import_module("runstash_metadata.search.runs")

        plan = run_search.plan(
            list(experiment_ids), filter_string, view_type, list(order_by), max_results, page_token
        )
        with self._read_engine.connect() as conn:
            rows = conn.execute(plan.statement).all()
            ids = [str(row[0]) for row in rows[: plan.max_results]]
            runs = self._hydrator.load(conn, ids, model_inputs=False, out=out)
        return runs, plan.next_page_token(len(rows))

    def log_metric(self, run_id: str, metric: MetricPoint) -> None:
        """One point, group-committed with concurrent single writes (see :mod:`.small_writes`)."""
        if metric.model_id:
            self.log_batch(run_id, metrics=[metric])
            return
        self._small.log_metric(run_id, metric.key, metric.value, metric.timestamp, metric.step)

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self._small.log_param(run_id, key, value)

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._small.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        t = s.tags.c
        with self._engine.begin() as conn:
            self._require_active_run(conn, run_id)
            result = conn.execute(delete(s.tags).where(t.run_uuid == run_id, t.key == key))
            if result.rowcount == 0:
                raise not_found(f"No tag with name: {key} in run with id {run_id}")

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricLike] = (),
        params: Sequence[tuple[str, str]] = (),
        tags: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Params, metrics, model metrics and tags in ONE transaction: all or nothing.

        Statement count is independent of the batch size: a run check, one select of existing
        params, then one bulk statement per table (see :mod:`.metric_batch` for the metrics).
        """
        try:
            self._log_batch(run_id, metrics, params, tags, dedupe=False)
        except DuplicatePoints:  # nothing was committed; write again, skipping existing points
            self._log_batch(run_id, metrics, params, tags, dedupe=True)
        if self._stats is not None:
            self._stats.wrote()

    def _log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricLike],
        params: Sequence[tuple[str, str]],
        tags: Sequence[tuple[str, str]],
        *,
        dedupe: bool,
    ) -> None:
        with self._engine.begin() as conn:
            experiment_id = self._require_active_run(conn, run_id)
            if params:
                self._write_params(conn, run_id, params)
            if metrics:
                self._metric_batch.write(conn, run_id, experiment_id, metrics, dedupe=dedupe)
            if tags:
                self._write_tags(conn, run_id, tags)

    def _write_params(self, conn: Connection, run_id: str, params: Sequence[tuple[str, str]]) -> None:
        p = s.params.c
        wanted = {k: v[:PARAM_VALUE_MAX] for k, v in params}
        check = list(wanted)
        if self._pg_insert_params is not None:
            # Insert first (one statement; new params are the common case), then compare only the
            # keys that already existed. A conflict raises, which rolls the inserts back.
            keys = sorted(wanted)
            arrays = {"keys": pg_text_array(keys), "values": pg_text_array([wanted[k] for k in keys])}
            inserted = set(conn.execute(self._pg_insert_params, {"rid": run_id, **arrays}).scalars())
            check = [k for k in check if k not in inserted]
            if not check:
                return
        existing: dict[str, str] = {}
        for chunk in chunks(check):
            for key, value in conn.execute(
                select(p.key, p.value).where(p.run_uuid == run_id, p.key.in_(chunk))
            ):
                existing[key] = value
        conflicts = [
            {"key": k, "old_value": existing[k], "new_value": v}
            for k, v in wanted.items()
            if k in existing and existing[k] != v
        ]
        if conflicts:
            raise invalid_parameter(
                f"Changing param values is not allowed. Params were already logged='{conflicts}' "
                f"for run ID='{run_id}'."
            )
        if self._pg_insert_params is not None:
            return
        new = [
            {"run_uuid": run_id, "key": k, "value": v} for k, v in sorted(wanted.items()) if k not in existing
        ]
        if new:
            conn.execute(self._i_params, new)

    def _write_tags(self, conn: Connection, run_id: str, tags: Sequence[tuple[str, str]]) -> None:
        wanted = {k: v[:TAG_VALUE_MAX] for k, v in tags}
        conn.execute(
            self._u_tags, [{"run_uuid": run_id, "key": k, "value": v} for k, v in sorted(wanted.items())]
        )
        if RUN_NAME_TAG in wanted:
            conn.execute(update(s.runs).where(s.runs.c.run_uuid == run_id).values(name=wanted[RUN_NAME_TAG]))

    def log_model(self, run_id: str, model: Mapping[str, Any]) -> None:
        """Legacy ``runs/log-model``: append the MLmodel dict to the run's history tag."""
        t = s.tags.c
        with self._engine.begin() as conn:
            self._require_active_run(conn, run_id)
            current = conn.execute(
                select(t.value).where(t.run_uuid == run_id, t.key == LOG_MODEL_HISTORY_TAG)
            ).scalar()
            history = json.loads(current) if current else []
            history.append(dict(model))
            conn.execute(
                self._u_tags,
                {"run_uuid": run_id, "key": LOG_MODEL_HISTORY_TAG, "value": json.dumps(history)},
            )

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        out: Any = None,
    ) -> tuple[Sequence[pb.Metric], str | None]:
        return self._history.get_metric_history(run_id, key, max_results, page_token, out=out)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
        *,
        out: Any = None,
    ) -> Sequence[pb.MetricWithRunId]:
        """See :meth:`.history.MetricHistory.bulk_interval` (``out``: a response's repeated field
        to fill in place)."""
        return self._history.bulk_interval(run_ids, key, max_results, start_step, end_step, out=out)

    def get_metric_history_bulk(
        self, run_ids: Sequence[str], key: str, max_results: int
    ) -> list[pb.MetricWithRunId]:
        return self._history.bulk(run_ids, key, max_results)
