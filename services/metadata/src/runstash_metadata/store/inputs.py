"""Run inputs (datasets, models), outputs (models) and the dataset search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import Connection, and_, select
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store import schema as s
from runstash_metadata.store.checks import require_active_run
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import DATASET_CONTEXT_TAG, chunks


@cache
def _inserts(q: Queries) -> tuple[Insert, Insert, Insert, Insert]:
    """(datasets, inputs, input tags, run outputs) insert-ignore statements of ``q``'s database."""
    return (
        q.insert_ignore(s.datasets, ["experiment_id", "name", "digest"]),
        q.insert_ignore(s.inputs, ["source_type", "source_id", "destination_type", "destination_id"]),
        q.insert_ignore(s.input_tags, ["input_uuid", "name"]),
        q.insert_ignore(s.run_outputs, ["run_uuid", "model_id", "step"]),
    )


def log_inputs(
    conn: Connection,
    q: Queries,
    run_id: str,
    *,
    datasets: Sequence[pb.DatasetInput] = (),
    models: Sequence[str] = (),
) -> None:
    experiment_id = require_active_run(conn, run_id)
    if datasets:
        _log_dataset_inputs(conn, q, run_id, experiment_id, datasets)
    if models:
        conn.execute(
            _inserts(q)[1],
            [
                {
                    "input_uuid": uuid.uuid4().hex,
                    "source_type": s.INPUT_SOURCE_MODEL,
                    "source_id": model_id,
                    "destination_type": s.INPUT_DESTINATION_RUN,
                    "destination_id": run_id,
                }
                for model_id in dict.fromkeys(models)
            ],
        )


def _dataset_uuids(
    conn: Connection, q: Queries, experiment_id: int, datasets: Sequence[pb.DatasetInput]
) -> dict[tuple[str, str], str]:
    """Insert the datasets new to the experiment; the uuid of each (name, digest)."""
    d = s.datasets.c
    wanted: dict[tuple[str, str], pb.Dataset] = {}
    for di in datasets:
        wanted[(di.dataset.name, di.dataset.digest)] = di.dataset
    conn.execute(
        _inserts(q)[0],
        [
            {
                "dataset_uuid": uuid.uuid4().hex,
                "experiment_id": experiment_id,
                "name": ds.name,
                "digest": ds.digest,
                "dataset_source_type": ds.source_type,
                "dataset_source": ds.source,
                "dataset_schema": ds.schema if ds.HasField("schema") else None,
                "dataset_profile": ds.profile if ds.HasField("profile") else None,
            }
            for (_, _), ds in sorted(wanted.items())
        ],
    )
    uuids: dict[tuple[str, str], str] = {}
    for chunk in chunks(sorted({name for name, _ in wanted})):
        for row in conn.execute(
            select(d.dataset_uuid, d.name, d.digest).where(
                d.experiment_id == experiment_id, d.name.in_(chunk)
            )
        ):
            uuids[(row.name, row.digest)] = row.dataset_uuid
    return uuids


def _log_dataset_inputs(
    conn: Connection, q: Queries, run_id: str, experiment_id: int, datasets: Sequence[pb.DatasetInput]
) -> None:
    i = s.inputs.c
    uuids = _dataset_uuids(conn, q, experiment_id, datasets)
    existing = set(
        conn.execute(
            select(i.source_id).where(
                i.destination_type == s.INPUT_DESTINATION_RUN,
                i.destination_id == run_id,
                i.source_type == s.INPUT_SOURCE_DATASET,
            )
        ).scalars()
    )
    new_inputs: list[dict[str, Any]] = []
    new_tags: list[dict[str, Any]] = []
    for di in datasets:
        dataset_uuid = uuids[(di.dataset.name, di.dataset.digest)]
        if dataset_uuid in existing:
            continue
        existing.add(dataset_uuid)
        input_uuid = uuid.uuid4().hex
        new_inputs.append(
            {
                "input_uuid": input_uuid,
                "source_type": s.INPUT_SOURCE_DATASET,
                "source_id": dataset_uuid,
                "destination_type": s.INPUT_DESTINATION_RUN,
                "destination_id": run_id,
            }
        )
        tag_map = {tag.key: tag.value for tag in di.tags}
        new_tags.extend({"input_uuid": input_uuid, "name": k, "value": v} for k, v in tag_map.items())
    if new_inputs:
        conn.execute(_inserts(q)[1], new_inputs)
    if new_tags:
        conn.execute(_inserts(q)[2], new_tags)


def log_outputs(conn: Connection, q: Queries, run_id: str, models: Sequence[tuple[str, int]]) -> None:
    require_active_run(conn, run_id)
    if models:
        conn.execute(
            _inserts(q)[3],
            [
                {"run_uuid": run_id, "model_id": model_id, "step": step}
                for model_id, step in dict.fromkeys(models)
            ],
        )


def search_datasets(conn: Connection, experiment_ids: Sequence[int]) -> list[pb.DatasetSummary]:
    d = s.datasets.c
    i = s.inputs.c
    it = s.input_tags.c
    stmt = (
        select(d.experiment_id, d.name, d.digest, it.value)
        .distinct()
        .join(s.inputs, and_(i.source_id == d.dataset_uuid, i.source_type == s.INPUT_SOURCE_DATASET))
        .outerjoin(s.input_tags, and_(it.input_uuid == i.input_uuid, it.name == DATASET_CONTEXT_TAG))
        .where(d.experiment_id.in_(list(experiment_ids)))
        .order_by(d.experiment_id, d.name, d.digest, it.value)
        .limit(1000)
    )
    return [
        pb.DatasetSummary(experiment_id=str(exp_id), name=name, digest=digest, context=context)
        for exp_id, name, digest, context in conn.execute(stmt)
    ]
