"""Run params and tags: the param-conflict rule and the run-name rule, for batches and groups.

Params are write-once: logging a key again with another value is an error (MLflow's), the same
value is a no-op. The ``mlflow.runName`` tag and the run's name are one value: writing the tag
renames the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from runstash_protos.errors import RunstashError, invalid_parameter
from sqlalchemy import Connection, bindparam, select, update

from runstash_metadata.store import schema as s
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import RUN_NAME_TAG, chunks

_STORED_PARAMS = select(s.params.c.run_uuid, s.params.c.key, s.params.c.value).where(
    s.params.c.run_uuid.in_(bindparam("ids", expanding=True)),
    s.params.c.key.in_(bindparam("keys", expanding=True)),
)


@dataclass(frozen=True, slots=True)
class ParamConflict:
    run_id: str
    key: str
    old_value: str
    new_value: str

    def single_write_error(self) -> RunstashError:
        """MLflow's message for log-param."""
        return invalid_parameter(
            f"Changing param values is not allowed. Param with key='{self.key}' was already logged "
            f"with value='{self.old_value}' for run ID='{self.run_id}'. "
            f"Attempted logging new value '{self.new_value}'."
        )


def batch_conflict_error(run_id: str, conflicts: Sequence[ParamConflict]) -> RunstashError:
    """MLflow's message for log-batch."""
    listed = [{"key": c.key, "old_value": c.old_value, "new_value": c.new_value} for c in conflicts]
    return invalid_parameter(
        f"Changing param values is not allowed. Params were already logged='{listed}' for run ID='{run_id}'."
    )


def write_params(conn: Connection, q: Queries, writes: Sequence[tuple[str, str, str]]) -> list[ParamConflict]:
    """Write (run id, key, value) params; return the writes in conflict, in order.

    The first write of a key to a run is stored when the run has no such key; every write whose
    value differs from the stored one (older, or an earlier write of the same call) conflicts.
    Nothing of a conflicting write is stored; the caller decides whether a conflict fails the
    transaction (log-batch) or only that write (group-committed log-param).
    """
    first: dict[tuple[str, str], str] = {}
    for run, key, value in writes:
        first.setdefault((run, key), value)
    inserted = q.insert_new_params(conn, [(run, key, value) for (run, key), value in first.items()])
    stored = {rk: value for rk, value in first.items() if inserted is not None and rk in inserted}
    check = [rk for rk in first if rk not in stored]
    run_ids = sorted({run for run, _ in check})
    for keys in chunks(sorted({key for _, key in check})):
        for run, key, value in conn.execute(_STORED_PARAMS, {"ids": run_ids, "keys": list(keys)}):
            stored[(run, key)] = value
    return [
        ParamConflict(run, key, stored[(run, key)], value)
        for run, key, value in writes
        if (run, key) in stored and stored[(run, key)] != value
    ]


def write_tags(conn: Connection, q: Queries, wanted: Mapping[tuple[str, str], str]) -> None:
    """Upsert tags ((run id, key) -> value) and rename the runs whose ``mlflow.runName`` is set."""
    if not wanted:
        return
    ordered = sorted(wanted.items())
    conn.execute(q.tag_upsert, [{"run_uuid": r, "key": k, "value": v} for (r, k), v in ordered])
    for (run_id, key), value in ordered:
        if key == RUN_NAME_TAG:
            conn.execute(update(s.runs).where(s.runs.c.run_uuid == run_id).values(name=value))


def resolve_run_name(
    run_name: str | None, tags: Sequence[tuple[str, str]], generate: Callable[[], str]
) -> str:
    """The name of a new run: ``run_name``, else the first ``mlflow.runName`` tag (as MLflow
    reads it), else ``generate``. Both given and different is MLflow's error, raised by the
    request's check (``validation_runs.check_create_run``) before the transaction."""
    tag_name = next((value for key, value in tags if key == RUN_NAME_TAG), None)
    return run_name or tag_name or generate()
