"""Upserts that take ids and timestamps as given: what `runstash import` copies from another
tracking server (the creating RPCs assign ids themselves).

Each function is idempotent: importing the same record twice leaves the database as importing it
once, so an interrupted import is simply run again. An id already used by a different record (an
experiment id with another name, a run in another experiment) is refused, never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runstash_protos.errors import ErrorCode, RunstashError, not_found
from runstash_protos.metrics import count_points
from sqlalchemy import Connection, insert, or_, select, update

from runstash_metadata.store import schema as s
from runstash_metadata.store import schema_registry as reg
from runstash_metadata.store.checks import require_active_run
from runstash_metadata.store.params_tags import write_params, write_tags
from runstash_metadata.store.points import Points
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import stored_value


def _taken(message: str) -> RunstashError:
    return RunstashError(ErrorCode.RESOURCE_ALREADY_EXISTS, message)


def import_experiment(
    conn: Connection,
    q: Queries,
    experiment_id: int,
    values: Mapping[str, Any],
    tags: Sequence[tuple[str, str]],
) -> bool:
    """Insert or update the experiment ``experiment_id`` (``values``: name, artifact_location,
    lifecycle_stage, creation_time, last_update_time) and upsert its tags; True if inserted."""
    e = s.experiments.c
    rows = conn.execute(
        select(e.experiment_id, e.name).where(or_(e.experiment_id == experiment_id, e.name == values["name"]))
    ).all()
    for row in rows:
        if row.experiment_id != experiment_id or row.name != values["name"]:
            raise _taken(
                f"Cannot import experiment {experiment_id} '{values['name']}': experiment "
                f"{row.experiment_id} is named '{row.name}' here."
            )
    if rows:
        conn.execute(update(s.experiments).where(e.experiment_id == experiment_id).values(**values))
    else:
        if experiment_id == 0:
            q.before_explicit_zero_id(conn)
        conn.execute(insert(s.experiments).values(experiment_id=experiment_id, **values))
        q.after_explicit_id(conn, s.experiments, "experiment_id")
    if tags:
        conn.execute(
            q.upsert(s.experiment_tags, ["experiment_id", "key"], ["value"]),
            [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in dict(tags).items()],
        )
    return not rows


def import_run(
    conn: Connection,
    q: Queries,
    values: Mapping[str, Any],
    params: Sequence[tuple[str, str]],
    tags: Sequence[tuple[str, str]],
) -> bool:
    """Insert or update the run ``values["run_uuid"]`` (every column of ``runs``), add its params
    (a different value for a stored key is refused) and upsert its tags; True if inserted."""
    r = s.runs.c
    run_id, experiment_id = values["run_uuid"], values["experiment_id"]
    e = s.experiments.c
    if conn.execute(select(e.experiment_id).where(e.experiment_id == experiment_id)).first() is None:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    stored = conn.execute(select(r.experiment_id).where(r.run_uuid == run_id)).first()
    if stored is not None and stored.experiment_id != experiment_id:
        raise _taken(f"Run {run_id} exists here in experiment {stored.experiment_id}, not {experiment_id}.")
    if stored is None:
        conn.execute(insert(s.runs).values(**values))
    else:
        conn.execute(update(s.runs).where(r.run_uuid == run_id).values(**values))
    conflicts = write_params(conn, q, [(run_id, k, v) for k, v in params]) if params else []
    if conflicts:
        raise RunstashError(
            ErrorCode.INVALID_PARAMETER_VALUE,
            f"Run {run_id} already has param '{conflicts[0].key}' with another value.",
        )
    write_tags(conn, q, {(run_id, k): v for k, v in tags})
    return stored is None


def import_logged_model(
    conn: Connection,
    q: Queries,
    values: Mapping[str, Any],
    params: Sequence[tuple[str, str]],
    tags: Sequence[tuple[str, str]],
) -> bool:
    """Insert or update the logged model ``values["model_id"]`` with its params and tags."""
    m = s.logged_models.c
    model_id, experiment_id = values["model_id"], values["experiment_id"]
    stored = conn.execute(select(m.experiment_id).where(m.model_id == model_id)).first()
    if stored is not None and stored.experiment_id != experiment_id:
        raise _taken(f"Logged model {model_id} exists here in experiment {stored.experiment_id}.")
    if stored is None:
        conn.execute(insert(s.logged_models).values(**values))
    else:
        conn.execute(update(s.logged_models).where(m.model_id == model_id).values(**values))
    ids = {"model_id": model_id, "experiment_id": experiment_id}
    if params:
        conn.execute(
            q.upsert(s.logged_model_params, ["model_id", "param_key"], ["param_value"]),
            [{**ids, "param_key": k, "param_value": v} for k, v in dict(params).items()],
        )
    if tags:
        conn.execute(
            q.upsert(s.logged_model_tags, ["model_id", "tag_key"], ["tag_value"]),
            [{**ids, "tag_key": k, "tag_value": v} for k, v in dict(tags).items()],
        )
    return stored is None


def import_metric_points(
    conn: Connection,
    q: Queries,
    run_id: str,
    key: str,
    columns: tuple[Sequence[float], Sequence[int], Sequence[int]],
    *,
    dedupe: bool,
) -> int:
    """One metric's points of an active run, column-wise (values, timestamps, steps), through the
    same bulk statement as log-batch; may raise DuplicatePoints like ``Queries.write_points``."""
    values, timestamps, steps = columns
    require_active_run(conn, run_id)
    stored = [stored_value(v) for v in values]
    points = Points(
        [run_id],
        [key] * len(stored),
        [v for v, _ in stored],
        [nan for _, nan in stored],
        list(timestamps),
        list(steps),
    )
    q.write_points(conn, points, dedupe=dedupe)
    count_points(len(points))
    return len(points)


def set_registry_times(
    conn: Connection,
    name: str,
    model_times: tuple[int | None, int | None],
    version_times: Sequence[tuple[str, int | None, int | None]],
) -> None:
    """The creation and last-update times of a registered model and of some of its versions, as
    another registry had them (None: leave as is). The records must exist."""
    m, v = reg.registered_models.c, reg.model_versions.c
    if conn.execute(select(m.name).where(m.name == name)).first() is None:
        raise not_found(f"Registered Model with name={name} not found")
    values = dict(zip(("creation_time", "last_updated_time"), model_times, strict=True))
    values = {k: t for k, t in values.items() if t is not None}
    if values:
        conn.execute(update(reg.registered_models).where(m.name == name).values(**values))
    for version, created, updated in version_times:
        stamps = {
            k: t for k, t in (("creation_time", created), ("last_updated_time", updated)) if t is not None
        }
        if stamps:
            where = (v.name == name) & (v.version == int(version))
            conn.execute(update(reg.model_versions).where(where).values(**stamps))
