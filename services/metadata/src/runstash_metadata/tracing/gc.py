"""Traces in `runstash gc`: the traces of an experiment gc removes go with it, in the same batch
transaction (MLflow's trace_info rows cascade from their experiment's).

No sweeper by age: ``mlflow gc --older-than`` selects deleted runs, experiments and logged models,
never live traces; how long live traces are kept is ``RUNSTASH_TRACE_RETENTION_DAYS``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from runstash_metadata.store import gc
from runstash_metadata.store.queries import Queries
from runstash_metadata.tracing.store import delete_experiment_traces


def _experiment_traces(conn: Connection, q: Queries, experiment_ids: Sequence[int]) -> None:
    delete_experiment_traces(conn, q, experiment_ids)


def register() -> None:
    """Hook the trace tables into gc's experiment deletes (once, however often it is called)."""
    if _experiment_traces not in gc.EXPERIMENT_DEPENDENTS:
        gc.EXPERIMENT_DEPENDENTS.append(_experiment_traces)
