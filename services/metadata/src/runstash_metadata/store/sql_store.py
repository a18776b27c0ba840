"""The SQL tracking store: every tracking semantic of the MLflow REST API over SQLAlchemy Core.

Entities are returned as the contract's protobuf messages (``runstash_protos.metadata_pb2``), so the
servicer hands them out without another copy. Write paths are built for throughput: each RPC is one
transaction with a fixed, small number of statements (bulk statements for batches, never a round
trip per row), and statements are built once so SQLAlchemy's compiled cache serves them.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter, not_found
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from runstash_metadata.names import generate_name
from runstash_metadata.store import schema as s
from runstash_metadata.store.dialect import Dialect, pg_text_array
from runstash_metadata.store.history import MetricHistory
from runstash_metadata.store.hydration import RunHydrator, run_info
from runstash_metadata.store.metric_batch import DuplicatePoints, MetricBatchWriter, MetricLike
from runstash_metadata.store.migrate import upgrade_to_head
from runstash_metadata.store.small_writes import SmallWriter
from runstash_metadata.store.stats import StatsRefresher
from runstash_metadata.store.values import (
    CUSTOM_VIEW_TAG_PREFIX,
    DATASET_CONTEXT_TAG,
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    LOG_MODEL_HISTORY_TAG,
    MAX_DOUBLE,
    PARAM_VALUE_MAX,
    RUN_NAME_TAG,
    TAG_VALUE_MAX,
    WORKSPACE,
    chunks,
    join_uri,
    loaded_value,
    now_ms,
)
from runstash_metadata.validation_experiments import check_custom_view_tag_write

__all__ = ["MAX_DOUBLE", "MetricLike", "MetricPoint", "SqlTrackingStore", "params_of"]


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


_PG_CREATE_RUN = """
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


_PG_INSERT_PARAMS = """
INSERT INTO params (run_uuid, key, value)
SELECT :rid, u.key, u.value
FROM unnest(CAST(:keys AS VARCHAR(250)[]), CAST(:values AS VARCHAR(6000)[])) AS u(key, value)
ORDER BY u.key
ON CONFLICT (run_uuid, key) DO NOTHING
RETURNING key
"""


class SqlTrackingStore:
    """One SQL implementation of the tracking store for SQLite, PostgreSQL and MySQL/MariaDB."""

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self.dialect = Dialect.for_uri(db_uri)
        self.default_artifact_root = default_artifact_root
        self._engine, self._read_engine = self.dialect.create_engines()
        upgrade_to_head(self._engine)
        self._build_statements()
        self._small = SmallWriter(self._engine, self.dialect)
        self._metric_batch = MetricBatchWriter(self.dialect)
        self._history = MetricHistory(self._read_engine, self.dialect)
        self._hydrator = RunHydrator(self.dialect)
        self._stats = StatsRefresher(self._engine) if self.dialect.name == "postgresql" else None
        self._ensure_default_experiment()

    def close(self) -> None:
        self._engine.dispose()
        if self._read_engine is not self._engine:
            self._read_engine.dispose()

    # ------------------------------------------------------------------ prepared statements

    def _build_statements(self) -> None:
        d = self.dialect
        r = s.runs.c
        self._q_run_state = select(r.lifecycle_stage, r.experiment_id).where(r.run_uuid == bindparam("rid"))
        self._insert_metrics = d.bulk_insert_ignore(
            s.metrics, ["run_uuid", "key", "step", "timestamp", "value", "is_nan"]
        )
        self._i_run = insert(s.runs).values(
            run_uuid=bindparam("rid"),
            name=bindparam("name"),
            experiment_id=bindparam("eid"),
            user_id=bindparam("user_id"),
            status="RUNNING",
            start_time=bindparam("start_time"),
            end_time=None,
            lifecycle_stage=s.ACTIVE,
            artifact_uri=bindparam("artifact_uri"),
        )
        self._pg_create_run = text(_PG_CREATE_RUN) if d.name == "postgresql" else None
        self._pg_insert_params = text(_PG_INSERT_PARAMS) if d.name == "postgresql" else None
        self._u_latest = d.upsert_if_greater(
            s.latest_metrics,
            ["run_uuid", "key"],
            order_columns=["step", "timestamp", "value"],
            other_columns=["is_nan"],
        )
        self._i_params = d.insert_ignore(s.params, ["run_uuid", "key"])
        self._u_tags = d.upsert(s.tags, ["run_uuid", "key"], ["value"])
        self._i_model_metrics = d.insert_ignore(
            s.logged_model_metrics,
            ["model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"],
        )
        self._u_exp_tags = d.upsert(s.experiment_tags, ["experiment_id", "key"], ["value"])
        self._u_model_tags = d.upsert(s.logged_model_tags, ["model_id", "tag_key"], ["tag_value"])
        self._u_model_params = d.upsert(s.logged_model_params, ["model_id", "param_key"], ["param_value"])
        self._i_run_outputs = d.insert_ignore(s.run_outputs, ["run_uuid", "model_id", "step"])
        self._i_inputs = d.insert_ignore(
            s.inputs, ["source_type", "source_id", "destination_type", "destination_id"]
        )
        self._i_datasets = d.insert_ignore(s.datasets, ["experiment_id", "name", "digest"])
        self._i_input_tags = d.insert_ignore(s.input_tags, ["input_uuid", "name"])

    def _ensure_default_experiment(self) -> None:
        e = s.experiments.c
        with self._engine.begin() as conn:
            if conn.execute(select(e.experiment_id).where(e.experiment_id == DEFAULT_EXPERIMENT_ID)).first():
                return
        try:
            with self._engine.begin() as conn:
                if self.dialect.is_mysql:
                    # An explicit 0 in an AUTO_INCREMENT column means "next value" unless told otherwise.
                    conn.exec_driver_sql(
                        "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
                    )
                ts = now_ms()
                conn.execute(
                    insert(s.experiments).values(
                        experiment_id=DEFAULT_EXPERIMENT_ID,
                        name=DEFAULT_EXPERIMENT_NAME,
                        artifact_location=self._default_location(DEFAULT_EXPERIMENT_ID),
                        lifecycle_stage=s.ACTIVE,
                        creation_time=ts,
                        last_update_time=ts,
                    )
                )
        except IntegrityError:
            pass  # another replica created it concurrently

    def _default_location(self, experiment_id: int) -> str:
        return join_uri(self.default_artifact_root, str(experiment_id))

    # ------------------------------------------------------------------ experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[tuple[str, str]] = ()
    ) -> str:
        ts = now_ms()
        e = s.experiments.c
        try:
            with self._engine.begin() as conn:
                result = conn.execute(
                    insert(s.experiments).values(
                        name=name,
                        artifact_location=artifact_location or None,
                        lifecycle_stage=s.ACTIVE,
                        creation_time=ts,
                        last_update_time=ts,
                    )
                )
                experiment_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                if not artifact_location:
                    conn.execute(
                        update(s.experiments)
                        .where(e.experiment_id == experiment_id)
                        .values(artifact_location=self._default_location(experiment_id))
                    )
                if tags:
                    rows = {k: v for k, v in tags}
                    conn.execute(
                        self._u_exp_tags,
                        [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in rows.items()],
                    )
        except IntegrityError as exc:
            raise RunstashError(
                ErrorCode.RESOURCE_ALREADY_EXISTS,
                f"Experiment(name={name}) already exists. Error: {exc.orig}",
            ) from exc
        return str(experiment_id)

    def get_experiment(self, experiment_id: int) -> pb.Experiment:
        with self._read_engine.connect() as conn:
            experiments = self._load_experiments(conn, [experiment_id])
        if not experiments:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        return experiments[0]

    def get_experiment_by_name(self, name: str) -> pb.Experiment:
        e = s.experiments.c
        with self._read_engine.connect() as conn:
            row = conn.execute(select(e.experiment_id).where(e.name == name)).first()
            experiments = self._load_experiments(conn, [row[0]]) if row else []
        if not experiments:
            raise not_found(f"Could not find experiment with name '{name}'")
        return experiments[0]

    def _load_experiments(self, conn: Connection, ids: Sequence[int]) -> list[pb.Experiment]:
        """Experiments in the order of ``ids`` (missing ids skipped), tags loaded in bulk."""
        e = s.experiments.c
        t = s.experiment_tags.c
        by_id: dict[int, pb.Experiment] = {}
        for chunk in chunks(list(ids)):
            for row in conn.execute(select(s.experiments).where(e.experiment_id.in_(chunk))):
                exp = pb.Experiment(
                    experiment_id=str(row.experiment_id),
                    name=row.name,
                    artifact_location=row.artifact_location or "",
                    lifecycle_stage=row.lifecycle_stage,
                    last_update_time=row.last_update_time,
                    creation_time=row.creation_time,
                    workspace=WORKSPACE,
                )
                by_id[row.experiment_id] = exp
            for row in conn.execute(
                select(t.experiment_id, t.key, t.value).where(t.experiment_id.in_(chunk)).order_by(t.key)
            ):
                by_id[row.experiment_id].tags.add(key=row.key, value=row.value)
        return [by_id[i] for i in ids if i in by_id]

    def _experiment_state(self, conn: Connection, experiment_id: int) -> Any:
        e = s.experiments.c
        row = conn.execute(
            select(e.lifecycle_stage, e.artifact_location).where(e.experiment_id == experiment_id)
        ).first()
        if row is None:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        return row

    def _require_active_experiment(self, conn: Connection, experiment_id: int) -> Any:
        row = self._experiment_state(conn, experiment_id)
        if row.lifecycle_stage != s.ACTIVE:
            raise invalid_parameter(
                f"The experiment {experiment_id} must be in the 'active' state. "
                f"Current state is {row.lifecycle_stage}."
            )
        return row

    def delete_experiment(self, experiment_id: int) -> None:
        self._set_experiment_stage(experiment_id, s.ACTIVE, s.DELETED)

    def restore_experiment(self, experiment_id: int) -> None:
        self._set_experiment_stage(experiment_id, s.DELETED, s.ACTIVE)

    def _set_experiment_stage(self, experiment_id: int, from_stage: str, to_stage: str) -> None:
        e = s.experiments.c
        r = s.runs.c
        ts = now_ms()
        with self._engine.begin() as conn:
            result = conn.execute(
                update(s.experiments)
                .where(e.experiment_id == experiment_id, e.lifecycle_stage == from_stage)
                .values(lifecycle_stage=to_stage, last_update_time=ts)
            )
            if result.rowcount == 0:
                raise not_found(f"No Experiment with id={experiment_id} exists")
            if to_stage == s.DELETED:
                conn.execute(
                    update(s.runs)
                    .where(r.experiment_id == experiment_id, r.lifecycle_stage == s.ACTIVE)
                    .values(lifecycle_stage=s.DELETED, deleted_time=ts)
                )
            else:
                conn.execute(
                    update(s.runs)
                    .where(r.experiment_id == experiment_id, r.lifecycle_stage == s.DELETED)
                    .values(lifecycle_stage=s.ACTIVE, deleted_time=None)
                )

    def rename_experiment(self, experiment_id: int, new_name: str) -> None:
        e = s.experiments.c
        try:
            with self._engine.begin() as conn:
                row = self._experiment_state(conn, experiment_id)
                if row.lifecycle_stage != s.ACTIVE:
                    raise RunstashError(ErrorCode.INVALID_STATE, "Cannot rename a non-active experiment.")
                conn.execute(
                    update(s.experiments)
                    .where(e.experiment_id == experiment_id)
                    .values(name=new_name, last_update_time=now_ms())
                )
        except IntegrityError as exc:
            raise RunstashError(
                ErrorCode.RESOURCE_ALREADY_EXISTS,
                f"Experiment(name={new_name}) already exists. Error: {exc.orig}",
            ) from exc

    def set_experiment_tag(self, experiment_id: int, key: str, value: str) -> None:
        t = s.experiment_tags.c
        with self._engine.begin() as conn:
            self._require_active_experiment(conn, experiment_id)
            if key.startswith(CUSTOM_VIEW_TAG_PREFIX):
                existing = conn.execute(
                    select(t.key).where(
                        t.experiment_id == experiment_id, t.key.like(f"{CUSTOM_VIEW_TAG_PREFIX}%")
                    )
                ).scalars()
                check_custom_view_tag_write(str(experiment_id), set(existing), key)
            conn.execute(self._u_exp_tags, {"experiment_id": experiment_id, "key": key, "value": value})

    def delete_experiment_tag(self, experiment_id: int, key: str) -> None:
        t = s.experiment_tags.c
        with self._engine.begin() as conn:
            self._require_active_experiment(conn, experiment_id)
            result = conn.execute(
                delete(s.experiment_tags).where(t.experiment_id == experiment_id, t.key == key)
            )
            if result.rowcount == 0:
                raise not_found(f"No tag with name: {key} in experiment with id {experiment_id}")

    def search_experiments(
        self,
        view_type: int,
        max_results: int,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> tuple[list[pb.Experiment], str | None]:
        exp_search = importlib.import_module("runstash_metadata.search.experiments")

        plan = exp_search.plan(filter_string, view_type, list(order_by), max_results, page_token)
        with self._read_engine.connect() as conn:
            rows = conn.execute(plan.statement).all()
            ids = [int(row[0]) for row in rows[: plan.max_results]]
            experiments = self._load_experiments(conn, ids)
        return experiments, plan.next_page_token(len(rows))

    # ------------------------------------------------------------------ runs

    def _require_active_run(self, conn: Connection, run_id: str) -> int:
        """The run's experiment id; 404 for an unknown run, 400 for a deleted one."""
        row = conn.execute(self._q_run_state, {"rid": run_id}).first()
        if row is None:
            raise not_found(f"Run with id={run_id} not found")
        if row.lifecycle_stage != s.ACTIVE:
            raise invalid_parameter(
                f"The run {run_id} must be in the 'active' state. Current state is {row.lifecycle_stage}."
            )
        return int(row.experiment_id)

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

    # ------------------------------------------------------------------ metrics, params, tags

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

    # ------------------------------------------------------------------ metric history

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> tuple[list[pb.Metric], str | None]:
        return self._history.get_metric_history(run_id, key, max_results, page_token)

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

    # ------------------------------------------------------------------ inputs / outputs / datasets

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[pb.DatasetInput] = (),
        models: Sequence[str] = (),
    ) -> None:
        d = s.datasets.c
        i = s.inputs.c
        with self._engine.begin() as conn:
            experiment_id = self._require_active_run(conn, run_id)
            if datasets:
                wanted: dict[tuple[str, str], pb.Dataset] = {}
                for di in datasets:
                    wanted[(di.dataset.name, di.dataset.digest)] = di.dataset
                conn.execute(
                    self._i_datasets,
                    [
                        {
                            "dataset_uuid": uuid.uuid4().hex,
                            "experiment_id": experiment_id,
                            "name": ds.name,
                            "digest": ds.digest,
                            "dataset_source_type": ds.source_type,
                            "dataset_source": ds.source,
                            "dataset_schema": ds.schema if ds.HasField("schema") else None,
                            "dataset_profile": ds.profile if ds.HasField("profile") else None,
                        }
                        for (_, _), ds in sorted(wanted.items())
                    ],
                )
                names = sorted({name for name, _ in wanted})
                uuids: dict[tuple[str, str], str] = {}
                for chunk in chunks(names):
                    for row in conn.execute(
                        select(d.dataset_uuid, d.name, d.digest).where(
                            d.experiment_id == experiment_id, d.name.in_(chunk)
                        )
                    ):
                        uuids[(row.name, row.digest)] = row.dataset_uuid
                existing = set(
                    conn.execute(
                        select(i.source_id).where(
                            i.destination_type == s.INPUT_DESTINATION_RUN,
                            i.destination_id == run_id,
                            i.source_type == s.INPUT_SOURCE_DATASET,
                        )
                    ).scalars()
                )
                new_inputs: list[dict[str, Any]] = []
                new_tags: list[dict[str, Any]] = []
                seen: set[str] = set()
                for di in datasets:
                    dataset_uuid = uuids[(di.dataset.name, di.dataset.digest)]
                    if dataset_uuid in existing or dataset_uuid in seen:
                        continue
                    seen.add(dataset_uuid)
                    input_uuid = uuid.uuid4().hex
                    new_inputs.append(
                        {
                            "input_uuid": input_uuid,
                            "source_type": s.INPUT_SOURCE_DATASET,
                            "source_id": dataset_uuid,
                            "destination_type": s.INPUT_DESTINATION_RUN,
                            "destination_id": run_id,
                        }
                    )
                    tag_map = {tag.key: tag.value for tag in di.tags}
                    new_tags.extend(
                        {"input_uuid": input_uuid, "name": k, "value": v} for k, v in tag_map.items()
                    )
                if new_inputs:
                    conn.execute(self._i_inputs, new_inputs)
                if new_tags:
                    conn.execute(self._i_input_tags, new_tags)
            if models:
                conn.execute(
                    self._i_inputs,
                    [
                        {
                            "input_uuid": uuid.uuid4().hex,
                            "source_type": s.INPUT_SOURCE_MODEL,
                            "source_id": model_id,
                            "destination_type": s.INPUT_DESTINATION_RUN,
                            "destination_id": run_id,
                        }
                        for model_id in dict.fromkeys(models)
                    ],
                )

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        with self._engine.begin() as conn:
            self._require_active_run(conn, run_id)
            conn.execute(
                self._i_run_outputs,
                [
                    {"run_uuid": run_id, "model_id": model_id, "step": step}
                    for model_id, step in dict.fromkeys(models)
                ],
            )

    def search_datasets(self, experiment_ids: Sequence[int]) -> list[pb.DatasetSummary]:
        d = s.datasets.c
        i = s.inputs.c
        it = s.input_tags.c
        stmt = (
            select(d.experiment_id, d.name, d.digest, it.value)
            .distinct()
            .join(
                s.inputs,
                and_(i.source_id == d.dataset_uuid, i.source_type == s.INPUT_SOURCE_DATASET),
            )
            .outerjoin(
                s.input_tags,
                and_(it.input_uuid == i.input_uuid, it.name == DATASET_CONTEXT_TAG),
            )
            .where(d.experiment_id.in_(list(experiment_ids)))
            .order_by(d.experiment_id, d.name, d.digest, it.value)
            .limit(1000)
        )
        with self._read_engine.connect() as conn:
            return [
                pb.DatasetSummary(experiment_id=str(exp_id), name=name, digest=digest, context=context)
                for exp_id, name, digest, context in conn.execute(stmt)
            ]

    # ------------------------------------------------------------------ logged models

    def create_logged_model(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        model_type: str | None = None,
        source_run_id: str | None = None,
        params: Sequence[tuple[str, str]] = (),
        tags: Sequence[tuple[str, str]] = (),
    ) -> pb.LoggedModel:
        model_id = f"m-{uuid.uuid4().hex}"
        ts = now_ms()
        with self._engine.begin() as conn:
            exp = self._require_active_experiment(conn, experiment_id)
            conn.execute(
                insert(s.logged_models).values(
                    model_id=model_id,
                    experiment_id=experiment_id,
                    name=name or generate_name(),
                    artifact_location=join_uri(exp.artifact_location or "", "models", model_id, "artifacts"),
                    status=pb.LOGGED_MODEL_PENDING,
                    lifecycle_stage=s.ACTIVE,
                    model_type=model_type or "",
                    source_run_id=source_run_id or "",
                    status_message=None,
                    creation_timestamp_ms=ts,
                    last_updated_timestamp_ms=ts,
                )
            )
            if params:
                conn.execute(
                    self._u_model_params,
                    [
                        {
                            "model_id": model_id,
                            "experiment_id": experiment_id,
                            "param_key": k,
                            "param_value": v,
                        }
                        for k, v in dict(params).items()
                    ],
                )
            if tags:
                conn.execute(
                    self._u_model_tags,
                    [
                        {"model_id": model_id, "experiment_id": experiment_id, "tag_key": k, "tag_value": v}
                        for k, v in dict(tags).items()
                    ],
                )
            return self._load_logged_models(conn, [model_id])[0]

    def _require_logged_model(self, conn: Connection, model_id: str, allow_deleted: bool = False) -> int:
        lm = s.logged_models.c
        row = conn.execute(
            select(lm.experiment_id, lm.lifecycle_stage).where(lm.model_id == model_id)
        ).first()
        if row is None or (row.lifecycle_stage != s.ACTIVE and not allow_deleted):
            raise not_found(f"Logged model with ID '{model_id}' not found.")
        return int(row.experiment_id)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> pb.LoggedModel:
        with self._read_engine.connect() as conn:
            self._require_logged_model(conn, model_id, allow_deleted)
            return self._load_logged_models(conn, [model_id])[0]

    def finalize_logged_model(self, model_id: str, status: int) -> pb.LoggedModel:
        lm = s.logged_models.c
        with self._engine.begin() as conn:
            self._require_logged_model(conn, model_id)
            conn.execute(
                update(s.logged_models)
                .where(lm.model_id == model_id)
                .values(status=status, last_updated_timestamp_ms=now_ms())
            )
            return self._load_logged_models(conn, [model_id])[0]

    def delete_logged_model(self, model_id: str) -> None:
        lm = s.logged_models.c
        with self._engine.begin() as conn:
            self._require_logged_model(conn, model_id)
            conn.execute(
                update(s.logged_models)
                .where(lm.model_id == model_id)
                .values(lifecycle_stage=s.DELETED, last_updated_timestamp_ms=now_ms())
            )

    def set_logged_model_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
        with self._engine.begin() as conn:
            experiment_id = self._require_logged_model(conn, model_id)
            if tags:
                conn.execute(
                    self._u_model_tags,
                    [
                        {"model_id": model_id, "experiment_id": experiment_id, "tag_key": k, "tag_value": v}
                        for k, v in sorted(dict(tags).items())
                    ],
                )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        t = s.logged_model_tags.c
        with self._engine.begin() as conn:
            self._require_logged_model(conn, model_id)
            result = conn.execute(delete(s.logged_model_tags).where(t.model_id == model_id, t.tag_key == key))
            if result.rowcount == 0:
                raise not_found(f"No tag with key '{key}' found for logged model with ID '{model_id}'.")

    def log_logged_model_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        with self._engine.begin() as conn:
            experiment_id = self._require_logged_model(conn, model_id)
            if params:
                conn.execute(
                    self._u_model_params,
                    [
                        {
                            "model_id": model_id,
                            "experiment_id": experiment_id,
                            "param_key": k,
                            "param_value": v,
                        }
                        for k, v in sorted(dict(params).items())
                    ],
                )

    def search_logged_models(
        self,
        experiment_ids: Sequence[int],
        *,
        filter_string: str = "",
        datasets: Sequence[Any] = (),
        max_results: int = 50,
        order_by: Sequence[Any] = (),
        page_token: str | None = None,
    ) -> tuple[list[pb.LoggedModel], str | None]:
        if not experiment_ids:
            return [], None
        lm_search = importlib.import_module("runstash_metadata.search.logged_models")

        plan = lm_search.plan(
            list(experiment_ids), filter_string, list(datasets), list(order_by), max_results, page_token
        )
        with self._read_engine.connect() as conn:
            rows = conn.execute(plan.statement).all()
            ids = [str(row[0]) for row in rows[: plan.max_results]]
            models = self._load_logged_models(conn, ids)
        return models, plan.next_page_token(len(rows))

    def _load_logged_models(self, conn: Connection, model_ids: Sequence[str]) -> list[pb.LoggedModel]:
        lm = s.logged_models.c
        p = s.logged_model_params.c
        t = s.logged_model_tags.c
        mm = s.logged_model_metrics.c
        by_id: dict[str, pb.LoggedModel] = {}
        for chunk in chunks(list(dict.fromkeys(model_ids))):
            for row in conn.execute(select(s.logged_models).where(lm.model_id.in_(chunk))):
                model = pb.LoggedModel()
                info = model.info
                info.model_id = row.model_id
                info.experiment_id = str(row.experiment_id)
                info.name = row.name
                info.creation_timestamp_ms = row.creation_timestamp_ms
                info.last_updated_timestamp_ms = row.last_updated_timestamp_ms
                info.artifact_uri = row.artifact_location
                info.status = row.status
                info.model_type = row.model_type or ""
                info.source_run_id = row.source_run_id or ""
                if row.status_message is not None:
                    info.status_message = row.status_message
                model.data.SetInParent()
                by_id[row.model_id] = model
            for row in conn.execute(
                select(t.model_id, t.tag_key, t.tag_value).where(t.model_id.in_(chunk)).order_by(t.tag_key)
            ):
                by_id[row.model_id].info.tags.add(key=row.tag_key, value=row.tag_value)
            for row in conn.execute(
                select(p.model_id, p.param_key, p.param_value)
                .where(p.model_id.in_(chunk))
                .order_by(p.param_key)
            ):
                by_id[row.model_id].data.params.add(key=row.param_key, value=row.param_value)
            for row in conn.execute(
                select(s.logged_model_metrics)
                .where(mm.model_id.in_(chunk))
                .order_by(mm.metric_name, mm.metric_step, mm.metric_timestamp_ms)
            ):
                by_id[row.model_id].data.metrics.add(
                    key=row.metric_name,
                    value=loaded_value(row.metric_value, row.is_nan),
                    timestamp=row.metric_timestamp_ms,
                    step=row.metric_step,
                    dataset_name=row.dataset_name,
                    dataset_digest=row.dataset_digest,
                    model_id=row.model_id,
                    run_id=row.run_id,
                )
        return [by_id[i] for i in model_ids if i in by_id]


def params_of(items: Iterable[Any]) -> list[tuple[str, str]]:
    """(key, value) pairs from Param/RunTag/ExperimentTag-like messages (absent value = "")."""
    return [(item.key, item.value) for item in items]
