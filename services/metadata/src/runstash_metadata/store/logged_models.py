"""Logged models: create, read, finalize, delete, tags, params, search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import not_found
from sqlalchemy import Connection, delete, insert, select, update

from runstash_metadata.names import generate_name
from runstash_metadata.store import schema as s
from runstash_metadata.store.checks import require_active_experiment
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import chunks, join_uri, loaded_value, now_ms


def create_logged_model(
    conn: Connection,
    q: Queries,
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
    exp = require_active_experiment(conn, experiment_id)
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
    _write_params(conn, q, model_id, experiment_id, params, ordered=False)
    _write_tags(conn, q, model_id, experiment_id, tags, ordered=False)
    return load_logged_models(conn, [model_id])[0]


def _write_params(
    conn: Connection,
    q: Queries,
    model_id: str,
    experiment_id: int,
    params: Sequence[tuple[str, str]],
    *,
    ordered: bool = True,
) -> None:
    items = dict(params).items()
    if items:
        conn.execute(
            q.upsert(s.logged_model_params, ["model_id", "param_key"], ["param_value"]),
            [
                {"model_id": model_id, "experiment_id": experiment_id, "param_key": k, "param_value": v}
                for k, v in (sorted(items) if ordered else items)
            ],
        )


def _write_tags(
    conn: Connection,
    q: Queries,
    model_id: str,
    experiment_id: int,
    tags: Sequence[tuple[str, str]],
    *,
    ordered: bool = True,
) -> None:
    items = dict(tags).items()
    if items:
        conn.execute(
            q.upsert(s.logged_model_tags, ["model_id", "tag_key"], ["tag_value"]),
            [
                {"model_id": model_id, "experiment_id": experiment_id, "tag_key": k, "tag_value": v}
                for k, v in (sorted(items) if ordered else items)
            ],
        )


def require_logged_model(conn: Connection, model_id: str, allow_deleted: bool = False) -> int:
    """The model's experiment id; 404 for an unknown (or, unless allowed, deleted) model."""
    lm = s.logged_models.c
    row = conn.execute(select(lm.experiment_id, lm.lifecycle_stage).where(lm.model_id == model_id)).first()
    if row is None or (row.lifecycle_stage != s.ACTIVE and not allow_deleted):
        raise not_found(f"Logged model with ID '{model_id}' not found.")
    return int(row.experiment_id)


def get_logged_model(conn: Connection, model_id: str, allow_deleted: bool = False) -> pb.LoggedModel:
    require_logged_model(conn, model_id, allow_deleted)
    return load_logged_models(conn, [model_id])[0]


def _touch(conn: Connection, model_id: str, **values: Any) -> None:
    lm = s.logged_models.c
    conn.execute(
        update(s.logged_models)
        .where(lm.model_id == model_id)
        .values(**values, last_updated_timestamp_ms=now_ms())
    )


def finalize_logged_model(conn: Connection, model_id: str, status: int) -> pb.LoggedModel:
    require_logged_model(conn, model_id)
    _touch(conn, model_id, status=status)
    return load_logged_models(conn, [model_id])[0]


def delete_logged_model(conn: Connection, model_id: str) -> None:
    require_logged_model(conn, model_id)
    _touch(conn, model_id, lifecycle_stage=s.DELETED)


def set_logged_model_tags(
    conn: Connection, q: Queries, model_id: str, tags: Sequence[tuple[str, str]]
) -> None:
    experiment_id = require_logged_model(conn, model_id)
    _write_tags(conn, q, model_id, experiment_id, tags)


def delete_logged_model_tag(conn: Connection, model_id: str, key: str) -> None:
    t = s.logged_model_tags.c
    require_logged_model(conn, model_id)
    result = conn.execute(delete(s.logged_model_tags).where(t.model_id == model_id, t.tag_key == key))
    if result.rowcount == 0:
        raise not_found(f"No tag with key '{key}' found for logged model with ID '{model_id}'.")


def log_logged_model_params(
    conn: Connection, q: Queries, model_id: str, params: Sequence[tuple[str, str]]
) -> None:
    experiment_id = require_logged_model(conn, model_id)
    _write_params(conn, q, model_id, experiment_id, params)


def search_logged_models(
    conn: Connection,
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
    from runstash_metadata.search import logged_models as lm_search

    plan = lm_search.plan(
        list(experiment_ids), filter_string, list(datasets), list(order_by), max_results, page_token
    )
    rows = conn.execute(plan.statement).all()
    ids = [str(row[0]) for row in rows[: plan.max_results]]
    return load_logged_models(conn, ids), plan.next_page_token(len(rows))


def load_logged_models(conn: Connection, model_ids: Sequence[str]) -> list[pb.LoggedModel]:
    """Models in the order of ``model_ids`` (unknown ids skipped), children loaded in bulk."""
    by_id: dict[str, pb.LoggedModel] = {}
    for chunk in chunks(list(dict.fromkeys(model_ids))):
        _load_chunk(conn, chunk, by_id)
    return [by_id[i] for i in model_ids if i in by_id]


def _load_chunk(conn: Connection, chunk: Sequence[str], by_id: dict[str, pb.LoggedModel]) -> None:
    lm, p, t, mm = s.logged_models.c, s.logged_model_params.c, s.logged_model_tags.c, s.logged_model_metrics.c
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
        select(p.model_id, p.param_key, p.param_value).where(p.model_id.in_(chunk)).order_by(p.param_key)
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
