"""Existence and lifecycle checks shared by the resource modules (MLflow's messages)."""

from __future__ import annotations

from typing import Any

from runstash_protos.errors import RunstashError, invalid_parameter, not_found
from sqlalchemy import Connection, bindparam, select

from runstash_metadata.store import schema as s

_RUN_STATE = select(s.runs.c.lifecycle_stage, s.runs.c.experiment_id).where(
    s.runs.c.run_uuid == bindparam("rid")
)


def experiment_state(conn: Connection, experiment_id: int) -> Any:
    """The experiment's (lifecycle_stage, artifact_location); 404 if it does not exist."""
    e = s.experiments.c
    row = conn.execute(
        select(e.lifecycle_stage, e.artifact_location).where(e.experiment_id == experiment_id)
    ).first()
    if row is None:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    return row


def inactive_experiment(experiment_id: int, stage: str) -> RunstashError:
    return invalid_parameter(
        f"The experiment {experiment_id} must be in the 'active' state. Current state is {stage}."
    )


def require_active_experiment(conn: Connection, experiment_id: int) -> Any:
    row = experiment_state(conn, experiment_id)
    if row.lifecycle_stage != s.ACTIVE:
        raise inactive_experiment(experiment_id, row.lifecycle_stage)
    return row


def run_state_error(run_id: str, stage: str | None) -> RunstashError | None:
    """The error for writing to a run in ``stage`` (None: the run does not exist)."""
    if stage is None:
        return not_found(f"Run with id={run_id} not found")
    if stage != s.ACTIVE:
        return invalid_parameter(f"The run {run_id} must be in the 'active' state. Current state is {stage}.")
    return None


def require_active_run(conn: Connection, run_id: str) -> int:
    """The run's experiment id; 404 for an unknown run, 400 for a deleted one."""
    row = conn.execute(_RUN_STATE, {"rid": run_id}).first()
    error = run_state_error(run_id, None if row is None else row.lifecycle_stage)
    if error is not None:
        raise error
    assert row is not None
    return int(row.experiment_id)
