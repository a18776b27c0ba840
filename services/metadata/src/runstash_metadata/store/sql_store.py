"""The SQL tracking store: every tracking semantic of the MLflow REST API over SQLAlchemy Core.

The facade: one object assembled from the section modules (experiments.py, runs.py, inputs.py,
logged_models.py over core.py), whose constructor sets up the engines and prepared statements.

Entities are returned as the contract's protobuf messages (``runstash_protos.metadata_pb2``), so the
servicer hands them out without another copy. Write paths are built for throughput: each RPC is one
transaction with a fixed, small number of statements (bulk statements for batches, never a round
trip per row), and statements are built once so SQLAlchemy's compiled cache serves them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from runstash_metadata.store import schema as s
from runstash_metadata.store.dialect import Dialect
from runstash_metadata.store.experiments import ExperimentsMixin
from runstash_metadata.store.history import MetricHistory
from runstash_metadata.store.hydration import RunHydrator
from runstash_metadata.store.inputs import InputsMixin
from runstash_metadata.store.logged_models import LoggedModelsMixin
from runstash_metadata.store.metric_batch import MetricBatchWriter, MetricLike
from runstash_metadata.store.migrate import ensure_current_schema
from runstash_metadata.store.runs import PG_CREATE_RUN, PG_INSERT_PARAMS, MetricPoint, RunsMixin
from runstash_metadata.store.small_writes import SmallWriter
from runstash_metadata.store.stats import StatsRefresher
from runstash_metadata.store.values import DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, MAX_DOUBLE, now_ms

__all__ = ["MAX_DOUBLE", "MetricLike", "MetricPoint", "SqlTrackingStore", "params_of"]


class SqlTrackingStore(ExperimentsMixin, RunsMixin, InputsMixin, LoggedModelsMixin):
    """One SQL implementation of the tracking store for SQLite, PostgreSQL and MySQL/MariaDB."""

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self.dialect = Dialect.for_uri(db_uri)
        self.default_artifact_root = default_artifact_root
        self._engine, self._read_engine = self.dialect.create_engines()
        ensure_current_schema(self._engine)
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
        self._pg_create_run = text(PG_CREATE_RUN) if d.name == "postgresql" else None
        self._pg_insert_params = text(PG_INSERT_PARAMS) if d.name == "postgresql" else None
        self._i_params = d.insert_ignore(s.params, ["run_uuid", "key"])
        self._u_tags = d.upsert(s.tags, ["run_uuid", "key"], ["value"])
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


def params_of(items: Iterable[Any]) -> list[tuple[str, str]]:
    """(key, value) pairs from Param/RunTag/ExperimentTag-like messages (absent value = "")."""
    return [(item.key, item.value) for item in items]
