"""Garbage collection: runs, logged models and experiments in the deleted stage, removed for good.

`runstash gc` drives these functions batch by batch; each batch is one transaction of set-based
DELETEs (children first, then the parents), so a killed gc leaves whole batches behind and a new
gc picks up where the last one stopped: what is still in the database is still to collect.

Which runs a gc takes (MLflow's ``mlflow gc`` rules, see :class:`Selection`): the runs named, or
else every deleted run older than the cutoff; plus every run of the experiments taken.

Later kinds of data hook in here instead of in the command:

* :data:`EXPERIMENT_DEPENDENTS`: a function ``(conn, q, experiment_ids)`` deleting rows of its own
  tables that belong to experiments about to be removed (traces, for example);
* :data:`SWEEPERS`: a :class:`Sweeper` collecting a kind of record older than the cutoff by itself,
  batch by batch, as the runs are (not live traces: MLflow's gc takes none by age, see
  ``runstash_metadata.tracing.gc``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Connection, Select, and_, delete, false, func, or_, select

from runstash_metadata.store import schema as s
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.schema_identity import grants

RUN_IDS = "VARCHAR(32)"
MODEL_IDS = "VARCHAR(36)"
EXPERIMENT_IDS = "INTEGER"


class Sweeper(Protocol):
    """A kind of record that gc collects by age on its own (registered in :data:`SWEEPERS`)."""

    name: str

    def count(self, conn: Connection, q: Queries, cutoff_ms: int | None) -> int:
        """How many records a gc with this cutoff (None: no age limit) would remove."""
        ...

    def sweep(self, conn: Connection, q: Queries, cutoff_ms: int | None, limit: int) -> int:
        """Remove up to ``limit`` of them in the caller's transaction; return how many went."""
        ...


ExperimentDependents = Callable[[Connection, Queries, Sequence[int]], None]
EXPERIMENT_DEPENDENTS: list[ExperimentDependents] = []
SWEEPERS: list[Sweeper] = []


@dataclass(frozen=True)
class Selection:
    """What one gc takes.

    ``run_ids`` / ``model_ids``: the ones named (None: every deleted one older than the cutoff).
    ``experiment_ids``: the experiments removed; their runs and logged models go with them.
    ``cutoff_ms``: deleted at or before this time (None: no age limit).
    """

    cutoff_ms: int | None = None
    run_ids: Sequence[str] | None = None
    model_ids: Sequence[str] | None = None
    experiment_ids: Sequence[int] = field(default_factory=tuple)


@dataclass(frozen=True)
class Doomed:
    """A run or logged model about to go, and where its artifacts are."""

    id: str
    artifact_uri: str | None


# ---------------------------------------------------------------------------- checks


def missing_experiments(conn: Connection, experiment_ids: Sequence[int]) -> list[int]:
    e = s.experiments.c
    found = set(conn.scalars(select(e.experiment_id).where(e.experiment_id.in_(list(experiment_ids)))))
    return [i for i in experiment_ids if i not in found]


def refused_experiments(
    conn: Connection, experiment_ids: Sequence[int], cutoff_ms: int | None
) -> tuple[list[int], list[int]]:
    """(not deleted, deleted but too recent) among ``experiment_ids``."""
    e = s.experiments.c
    rows = conn.execute(
        select(e.experiment_id, e.lifecycle_stage, e.last_update_time).where(
            e.experiment_id.in_(list(experiment_ids))
        )
    ).all()
    active = sorted(r.experiment_id for r in rows if r.lifecycle_stage != s.DELETED)
    recent: list[int] = []
    if cutoff_ms is not None:
        recent = sorted(
            r.experiment_id
            for r in rows
            if r.lifecycle_stage == s.DELETED
            and (r.last_update_time is None or r.last_update_time > cutoff_ms)
        )
    return active, recent


def run_states(conn: Connection, q: Queries, run_ids: Sequence[str]) -> dict[str, tuple[str, int | None]]:
    """{run id: (lifecycle stage, deleted time)} of the runs among ``run_ids`` that exist."""
    r = s.runs.c
    found: dict[str, tuple[str, int | None]] = {}
    for group in q.groups(list(run_ids)):
        stmt = select(r.run_uuid, r.lifecycle_stage, r.deleted_time).where(
            q.any_of(r.run_uuid, "ids", RUN_IDS)
        )
        for row in conn.execute(stmt, {"ids": q.id_list(group)}):
            found[row.run_uuid] = (row.lifecycle_stage, row.deleted_time)
    return found


def model_states(conn: Connection, q: Queries, model_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
    """{model id: (lifecycle stage, last update time)} of the logged models that exist."""
    m = s.logged_models.c
    found: dict[str, tuple[str, int]] = {}
    for group in q.groups(list(model_ids)):
        stmt = select(m.model_id, m.lifecycle_stage, m.last_updated_timestamp_ms).where(
            q.any_of(m.model_id, "ids", MODEL_IDS)
        )
        for row in conn.execute(stmt, {"ids": q.id_list(group)}):
            found[row.model_id] = (row.lifecycle_stage, row.last_updated_timestamp_ms)
    return found


def deleted_experiment_ids(conn: Connection, cutoff_ms: int | None) -> list[int]:
    """Every experiment in the deleted stage last updated at or before the cutoff."""
    e = s.experiments.c
    stmt = select(e.experiment_id).where(e.lifecycle_stage == s.DELETED)
    if cutoff_ms is not None:
        stmt = stmt.where(e.last_update_time < cutoff_ms)
    return list(conn.scalars(stmt.order_by(e.experiment_id)))


# ---------------------------------------------------------------------------- selection


class _Owned(NamedTuple):
    """The columns that choose a run or a logged model for collection."""

    id: ColumnElement[Any]
    id_type: str
    stage: ColumnElement[Any]
    deleted_at: ColumnElement[Any]
    experiment: ColumnElement[Any]


_RUNS = _Owned(
    s.runs.c.run_uuid, RUN_IDS, s.runs.c.lifecycle_stage, s.runs.c.deleted_time, s.runs.c.experiment_id
)
_MODELS = _Owned(
    s.logged_models.c.model_id,
    MODEL_IDS,
    s.logged_models.c.lifecycle_stage,
    s.logged_models.c.last_updated_timestamp_ms,
    s.logged_models.c.experiment_id,
)


def _owned_filter(
    q: Queries, sel: Selection, params: dict[str, Any], owned: _Owned, named: Sequence[str] | None
) -> ColumnElement[bool]:
    """Runs and logged models are chosen alike: by id when named, else deleted (and old enough);
    plus every one in a chosen experiment."""
    if named is not None:
        params["named"] = q.id_list(list(named))
        chosen: ColumnElement[bool] = q.any_of(owned.id, "named", owned.id_type) if named else false()
    else:
        chosen = owned.stage == s.DELETED
        if sel.cutoff_ms is not None:
            chosen = and_(chosen, owned.deleted_at <= sel.cutoff_ms)
    if sel.experiment_ids:
        params["exps"] = q.id_list([str(i) for i in sel.experiment_ids])
        chosen = or_(chosen, q.any_of(owned.experiment, "exps", EXPERIMENT_IDS))
    return chosen


def _run_filter(q: Queries, sel: Selection, params: dict[str, Any]) -> ColumnElement[bool]:
    return _owned_filter(q, sel, params, _RUNS, sel.run_ids)


def _model_filter(q: Queries, sel: Selection, params: dict[str, Any]) -> ColumnElement[bool]:
    return _owned_filter(q, sel, params, _MODELS, sel.model_ids)


def count_runs(conn: Connection, q: Queries, sel: Selection) -> int:
    params: dict[str, Any] = {}
    stmt = select(func.count()).select_from(s.runs).where(_run_filter(q, sel, params))
    return int(conn.execute(stmt, params).scalar_one())


def count_models(conn: Connection, q: Queries, sel: Selection) -> int:
    params: dict[str, Any] = {}
    stmt = select(func.count()).select_from(s.logged_models).where(_model_filter(q, sel, params))
    return int(conn.execute(stmt, params).scalar_one())


def _page(stmt: Select[Any], key: Any, after: str, limit: int) -> Select[Any]:
    return stmt.where(key > after).order_by(key).limit(limit)


def next_runs(conn: Connection, q: Queries, sel: Selection, *, after: str = "", limit: int) -> list[Doomed]:
    """The next ``limit`` selected runs by id after ``after`` (keyset: a dry run pages through)."""
    r = s.runs.c
    params: dict[str, Any] = {}
    stmt = _page(
        select(r.run_uuid, r.artifact_uri).where(_run_filter(q, sel, params)), r.run_uuid, after, limit
    )
    return [Doomed(row.run_uuid, row.artifact_uri) for row in conn.execute(stmt, params)]


def next_models(conn: Connection, q: Queries, sel: Selection, *, after: str = "", limit: int) -> list[Doomed]:
    m = s.logged_models.c
    params: dict[str, Any] = {}
    stmt = _page(
        select(m.model_id, m.artifact_location).where(_model_filter(q, sel, params)), m.model_id, after, limit
    )
    return [Doomed(row.model_id, row.artifact_location) for row in conn.execute(stmt, params)]


# ---------------------------------------------------------------------------- deletes


def delete_runs(conn: Connection, q: Queries, run_ids: Sequence[str]) -> int:
    """Remove the runs and every row hanging off them, one statement per table."""
    if not run_ids:
        return 0
    ids = {"ids": q.id_list(list(run_ids))}
    i = s.inputs.c
    to_runs = and_(
        i.destination_type == s.INPUT_DESTINATION_RUN, q.any_of(i.destination_id, "ids", MODEL_IDS)
    )
    conn.execute(
        delete(s.input_tags).where(s.input_tags.c.input_uuid.in_(select(i.input_uuid).where(to_runs))), ids
    )
    conn.execute(delete(s.inputs).where(to_runs), ids)
    q.delete_step_blocks(conn, run_ids)
    for table in (s.params, s.tags, s.metrics, s.latest_metrics, s.run_outputs):
        conn.execute(delete(table).where(q.any_of(table.c.run_uuid, "ids", RUN_IDS)), ids)
    return int(conn.execute(delete(s.runs).where(q.any_of(s.runs.c.run_uuid, "ids", RUN_IDS)), ids).rowcount)


def delete_models(conn: Connection, q: Queries, model_ids: Sequence[str]) -> int:
    """Remove the logged models with their params, tags and metrics (and the inputs naming them)."""
    if not model_ids:
        return 0
    ids = {"ids": q.id_list(list(model_ids))}
    i = s.inputs.c
    from_models = and_(i.source_type == s.INPUT_SOURCE_MODEL, q.any_of(i.source_id, "ids", MODEL_IDS))
    conn.execute(
        delete(s.input_tags).where(s.input_tags.c.input_uuid.in_(select(i.input_uuid).where(from_models))),
        ids,
    )
    conn.execute(delete(s.inputs).where(from_models), ids)
    for table in (s.logged_model_params, s.logged_model_tags, s.logged_model_metrics):
        conn.execute(delete(table).where(q.any_of(table.c.model_id, "ids", MODEL_IDS)), ids)
    table = s.logged_models
    return int(conn.execute(delete(table).where(q.any_of(table.c.model_id, "ids", MODEL_IDS)), ids).rowcount)


def delete_experiments(conn: Connection, q: Queries, experiment_ids: Sequence[int]) -> int:
    """Remove experiments whose runs and logged models are already gone, with their tags, datasets
    (and the inputs naming them), grants, and whatever :data:`EXPERIMENT_DEPENDENTS` hold."""
    if not experiment_ids:
        return 0
    for dependents in EXPERIMENT_DEPENDENTS:
        dependents(conn, q, experiment_ids)
    ids = {"ids": q.id_list([str(e) for e in experiment_ids])}
    d, i = s.datasets.c, s.inputs.c
    datasets = select(d.dataset_uuid).where(q.any_of(d.experiment_id, "ids", EXPERIMENT_IDS))
    from_datasets = and_(i.source_type == s.INPUT_SOURCE_DATASET, i.source_id.in_(datasets))
    conn.execute(
        delete(s.input_tags).where(s.input_tags.c.input_uuid.in_(select(i.input_uuid).where(from_datasets))),
        ids,
    )
    conn.execute(delete(s.inputs).where(from_datasets), ids)
    for table in (s.datasets, s.experiment_tags):
        conn.execute(delete(table).where(q.any_of(table.c.experiment_id, "ids", EXPERIMENT_IDS)), ids)
    conn.execute(
        delete(grants).where(
            grants.c.resource_type == "experiment",
            grants.c.resource_id.in_([str(e) for e in experiment_ids]),
        )
    )
    e = s.experiments.c
    return int(
        conn.execute(
            delete(s.experiments).where(q.any_of(e.experiment_id, "ids", EXPERIMENT_IDS)), ids
        ).rowcount
    )
