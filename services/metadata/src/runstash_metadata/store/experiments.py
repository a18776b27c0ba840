"""Experiments: create, read, rename, delete/restore, tags, search (functions of ``(conn, q, ...)``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError, not_found
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from runstash_metadata.store import schema as s
from runstash_metadata.store.checks import experiment_state, require_active_experiment
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import (
    CUSTOM_VIEW_TAG_PREFIX,
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    WORKSPACE,
    chunks,
    join_uri,
    now_ms,
    resolve_local_location,
)
from runstash_metadata.validation_experiments import check_custom_view_tag_write


def _already_exists(name: str, exc: IntegrityError) -> RunstashError:
    return RunstashError(
        ErrorCode.RESOURCE_ALREADY_EXISTS, f"Experiment(name={name}) already exists. Error: {exc.orig}"
    )


def ensure_default_experiment(conn: Connection, q: Queries, artifact_root: str) -> None:
    """Create the Default experiment (id 0) if it is missing. A concurrent replica may create it
    at the same time: the caller ignores the IntegrityError of the loser."""
    e = s.experiments.c
    if conn.execute(select(e.experiment_id).where(e.experiment_id == DEFAULT_EXPERIMENT_ID)).first():
        return
    q.before_explicit_zero_id(conn)
    ts = now_ms()
    conn.execute(
        insert(s.experiments).values(
            experiment_id=DEFAULT_EXPERIMENT_ID,
            name=DEFAULT_EXPERIMENT_NAME,
            artifact_location=join_uri(artifact_root, str(DEFAULT_EXPERIMENT_ID)),
            lifecycle_stage=s.ACTIVE,
            creation_time=ts,
            last_update_time=ts,
        )
    )


def create_experiment(
    conn: Connection,
    q: Queries,
    name: str,
    *,
    artifact_root: str,
    artifact_location: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
) -> str:
    """The new experiment's id; its location defaults to ``<artifact_root>/<id>``. A taken name
    raises RESOURCE_ALREADY_EXISTS (the caller's transaction is rolled back)."""
    ts = now_ms()
    e = s.experiments.c
    try:
        result = conn.execute(
            insert(s.experiments).values(
                name=name,
                artifact_location=resolve_local_location(artifact_location, Path.cwd())
                if artifact_location
                else None,
                lifecycle_stage=s.ACTIVE,
                creation_time=ts,
                last_update_time=ts,
            )
        )
    except IntegrityError as exc:
        raise _already_exists(name, exc) from exc
    experiment_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if not artifact_location:
        conn.execute(
            update(s.experiments)
            .where(e.experiment_id == experiment_id)
            .values(artifact_location=join_uri(artifact_root, str(experiment_id)))
        )
    if tags:
        rows = dict(tags)
        conn.execute(
            q.upsert(s.experiment_tags, ["experiment_id", "key"], ["value"]),
            [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in rows.items()],
        )
    return str(experiment_id)


def get_experiment(conn: Connection, experiment_id: int) -> pb.Experiment:
    experiments = load_experiments(conn, [experiment_id])
    if not experiments:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    return experiments[0]


def get_experiment_by_name(conn: Connection, name: str) -> pb.Experiment:
    e = s.experiments.c
    row = conn.execute(select(e.experiment_id).where(e.name == name)).first()
    experiments = load_experiments(conn, [row[0]]) if row else []
    if not experiments:
        raise not_found(f"Could not find experiment with name '{name}'")
    return experiments[0]


def load_experiments(conn: Connection, ids: Sequence[int]) -> list[pb.Experiment]:
    """Experiments in the order of ``ids`` (missing ids skipped), tags loaded in bulk."""
    e = s.experiments.c
    t = s.experiment_tags.c
    by_id: dict[int, pb.Experiment] = {}
    for chunk in chunks(list(ids)):
        for row in conn.execute(select(s.experiments).where(e.experiment_id.in_(chunk))):
            by_id[row.experiment_id] = pb.Experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location or "",
                lifecycle_stage=row.lifecycle_stage,
                last_update_time=row.last_update_time,
                creation_time=row.creation_time,
                workspace=WORKSPACE,
            )
        for row in conn.execute(
            select(t.experiment_id, t.key, t.value).where(t.experiment_id.in_(chunk)).order_by(t.key)
        ):
            by_id[row.experiment_id].tags.add(key=row.key, value=row.value)
    return [by_id[i] for i in ids if i in by_id]


def set_experiment_stage(conn: Connection, experiment_id: int, *, deleted: bool) -> None:
    """Delete (or restore) the experiment and, with it, its active (or deleted) runs."""
    e = s.experiments.c
    r = s.runs.c
    ts = now_ms()
    from_stage, to_stage = (s.ACTIVE, s.DELETED) if deleted else (s.DELETED, s.ACTIVE)
    result = conn.execute(
        update(s.experiments)
        .where(e.experiment_id == experiment_id, e.lifecycle_stage == from_stage)
        .values(lifecycle_stage=to_stage, last_update_time=ts)
    )
    if result.rowcount == 0:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    conn.execute(
        update(s.runs)
        .where(r.experiment_id == experiment_id, r.lifecycle_stage == from_stage)
        .values(lifecycle_stage=to_stage, deleted_time=ts if deleted else None)
    )


def rename_experiment(conn: Connection, experiment_id: int, new_name: str) -> None:
    e = s.experiments.c
    row = experiment_state(conn, experiment_id)
    if row.lifecycle_stage != s.ACTIVE:
        raise RunstashError(ErrorCode.INVALID_STATE, "Cannot rename a non-active experiment.")
    try:
        conn.execute(
            update(s.experiments)
            .where(e.experiment_id == experiment_id)
            .values(name=new_name, last_update_time=now_ms())
        )
    except IntegrityError as exc:
        raise _already_exists(new_name, exc) from exc


def set_experiment_tag(conn: Connection, q: Queries, experiment_id: int, key: str, value: str) -> None:
    t = s.experiment_tags.c
    require_active_experiment(conn, experiment_id)
    if key.startswith(CUSTOM_VIEW_TAG_PREFIX):
        existing = conn.execute(
            select(t.key).where(t.experiment_id == experiment_id, t.key.like(f"{CUSTOM_VIEW_TAG_PREFIX}%"))
        ).scalars()
        check_custom_view_tag_write(str(experiment_id), set(existing), key)
    conn.execute(
        q.upsert(s.experiment_tags, ["experiment_id", "key"], ["value"]),
        {"experiment_id": experiment_id, "key": key, "value": value},
    )


def delete_experiment_tag(conn: Connection, experiment_id: int, key: str) -> None:
    t = s.experiment_tags.c
    require_active_experiment(conn, experiment_id)
    result = conn.execute(delete(s.experiment_tags).where(t.experiment_id == experiment_id, t.key == key))
    if result.rowcount == 0:
        raise not_found(f"No tag with name: {key} in experiment with id {experiment_id}")


def search_experiments(
    conn: Connection,
    *,
    view_type: int,
    max_results: int,
    filter_string: str = "",
    order_by: Sequence[str] = (),
    page_token: str | None = None,
) -> tuple[list[pb.Experiment], str | None]:
    from runstash_metadata.search import experiments as exp_search

    plan = exp_search.plan(filter_string, view_type, list(order_by), max_results, page_token)
    rows = conn.execute(plan.statement).all()
    ids = [int(row[0]) for row in rows[: plan.max_results]]
    return load_experiments(conn, ids), plan.next_page_token(len(rows))
