"""State and checks shared by the sections of the SQL tracking store.

:class:`~runstash_metadata.store.sql_store.SqlTrackingStore` is one object assembled from section
mixins (experiments, runs, inputs/outputs, logged models); each section only uses what is declared
here, all of it set up by the facade's constructor.
"""

from __future__ import annotations

from typing import Any

from runstash_protos.errors import invalid_parameter, not_found
from sqlalchemy import Connection, Engine, select
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store import schema as s
from runstash_metadata.store.dialect import Dialect
from runstash_metadata.store.history import MetricHistory
from runstash_metadata.store.hydration import RunHydrator
from runstash_metadata.store.metric_batch import MetricBatchWriter
from runstash_metadata.store.small_writes import SmallWriter
from runstash_metadata.store.stats import StatsRefresher
from runstash_metadata.store.values import join_uri


class StoreCore:
    """Engines, prepared statements, helpers and existence/lifecycle checks used by every section."""

    dialect: Dialect
    default_artifact_root: str
    _engine: Engine
    _read_engine: Engine
    _small: SmallWriter
    _metric_batch: MetricBatchWriter
    _history: MetricHistory
    _hydrator: RunHydrator
    _stats: StatsRefresher | None
    _q_run_state: Any
    _i_run: Insert
    _pg_create_run: Any
    _pg_insert_params: Any
    _i_params: Insert
    _u_tags: Insert
    _u_exp_tags: Insert
    _u_model_tags: Insert
    _u_model_params: Insert
    _i_run_outputs: Insert
    _i_inputs: Insert
    _i_datasets: Insert
    _i_input_tags: Insert

    def _default_location(self, experiment_id: int) -> str:
        return join_uri(self.default_artifact_root, str(experiment_id))

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
