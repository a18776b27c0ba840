"""Runs: create, update, delete/restore, read, search, tags and the legacy log-model history."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import not_found
from sqlalchemy import Connection, delete, select, update

from runstash_metadata.names import generate_name
from runstash_metadata.store import schema as s
from runstash_metadata.store.checks import inactive_experiment, require_active_run
from runstash_metadata.store.hydration import load_runs, run_info
from runstash_metadata.store.params_tags import resolve_run_name, write_tags
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import (
    LOG_MODEL_HISTORY_TAG,
    RUN_NAME_TAG,
    TAG_VALUE_MAX,
    join_uri,
    now_ms,
)


def create_run(
    conn: Connection,
    q: Queries,
    experiment_id: int,
    *,
    user_id: str = "",
    start_time: int = 0,
    run_name: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
) -> pb.Run:
    name = resolve_run_name(run_name, tags, generate_name)
    tag_map = {key: value[:TAG_VALUE_MAX] for key, value in tags}
    tag_map[RUN_NAME_TAG] = name
    run_uuid = uuid.uuid4().hex
    values = {
        "rid": run_uuid,
        "name": name,
        "eid": experiment_id,
        "user_id": user_id,
        "start_time": start_time,
    }
    exp = q.insert_run(conn, values, tag_map)
    if exp is None:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    if exp.lifecycle_stage != s.ACTIVE:
        raise inactive_experiment(experiment_id, exp.lifecycle_stage)
    return _new_run(
        run_uuid,
        name,
        experiment_id=experiment_id,
        user_id=user_id,
        start_time=start_time,
        tags=tag_map,
        experiment_location=exp.artifact_location,
    )


def _new_run(
    run_uuid: str,
    name: str,
    *,
    experiment_id: int,
    user_id: str,
    start_time: int,
    tags: Mapping[str, str],
    experiment_location: str | None,
) -> pb.Run:
    run = pb.Run()
    info = run.info
    info.run_id = run_uuid
    info.run_uuid = run_uuid
    info.run_name = name
    info.experiment_id = str(experiment_id)
    info.user_id = user_id
    info.status = pb.RUNNING
    info.start_time = start_time
    info.artifact_uri = join_uri(experiment_location or "", run_uuid, "artifacts")
    info.lifecycle_stage = s.ACTIVE
    run.data.SetInParent()
    for k in sorted(tags):
        run.data.tags.add(key=k, value=tags[k])
    run.inputs.SetInParent()
    return run


def update_run(
    conn: Connection,
    q: Queries,
    run_id: str,
    *,
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
    require_active_run(conn, run_id)
    if values:
        conn.execute(update(s.runs).where(r.run_uuid == run_id).values(**values))
    if run_name:
        write_tags(conn, q, {(run_id, RUN_NAME_TAG): run_name})
    return run_info(conn.execute(select(s.runs).where(r.run_uuid == run_id)).one())


def set_run_stage(conn: Connection, run_id: str, *, deleted: bool) -> None:
    """Delete or restore a run (idempotent; 404 for an unknown run)."""
    r = s.runs.c
    result = conn.execute(
        update(s.runs)
        .where(r.run_uuid == run_id)
        .values(
            lifecycle_stage=s.DELETED if deleted else s.ACTIVE, deleted_time=now_ms() if deleted else None
        )
    )
    if result.rowcount == 0:
        raise not_found(f"Run with id={run_id} not found")


def get_run(conn: Connection, q: Queries, run_id: str) -> pb.Run:
    runs = load_runs(conn, q, [run_id], model_inputs=True)
    if not runs:
        raise not_found(f"Run with id={run_id} not found")
    return runs[0]


def search_runs(
    conn: Connection,
    q: Queries,
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
    from runstash_metadata.search import runs as run_search

    plan = run_search.plan(
        list(experiment_ids), filter_string, view_type, list(order_by), max_results, page_token
    )
    rows = plan.page_keys(lambda statement: conn.execute(statement).all())
    ids = [str(row[0]) for row in rows[: plan.max_results]]
    runs = load_runs(conn, q, ids, model_inputs=False, out=out)
    return runs, plan.next_page_token(len(rows))


def delete_tag(conn: Connection, run_id: str, key: str) -> None:
    t = s.tags.c
    require_active_run(conn, run_id)
    result = conn.execute(delete(s.tags).where(t.run_uuid == run_id, t.key == key))
    if result.rowcount == 0:
        raise not_found(f"No tag with name: {key} in run with id {run_id}")


def log_model(conn: Connection, q: Queries, run_id: str, model: Mapping[str, Any]) -> None:
    """Legacy ``runs/log-model``: append the MLmodel dict to the run's history tag."""
    t = s.tags.c
    require_active_run(conn, run_id)
    current = conn.execute(
        select(t.value).where(t.run_uuid == run_id, t.key == LOG_MODEL_HISTORY_TAG)
    ).scalar()
    history = json.loads(current) if current else []
    history.append(dict(model))
    write_tags(conn, q, {(run_id, LOG_MODEL_HISTORY_TAG): json.dumps(history)})
