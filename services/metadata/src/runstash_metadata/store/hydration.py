"""Hydrating runs: a page of run ids into complete ``Run`` messages with one query per table.

A search page holds up to 50,000 runs (1,000 by default), each with params, tags, latest metrics,
inputs and outputs. The cost is in three places, each handled here:

* the id list: one array parameter where the database takes one (``Queries.any_of``) instead of
  an IN list of 1000 bind parameters, which SQLAlchemy re-renders and the server re-plans per call;
* fetching: ``fetchall`` of plain rows, child rows ordered by run so each run's container is
  looked up once per run, not once per row;
* protobuf construction: the runs are added in place to the caller's repeated field (``out``, the
  response's ``runs``), not built standalone and copied into the response afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import Connection, Row, and_, bindparam, select

from runstash_metadata.store import schema as s
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import chunks

_STATUS = {name: pb.RunStatus.Value(name) for name in pb.RunStatus.keys()}  # noqa: SIM118


_NONE: Any = None  # "no container yet" (typed Any: each loop fills it with another field type)


def plain_rows(conn: Connection, statement: Any, params: dict[str, Any]) -> list[Any]:
    """The DB-API tuples of ``statement``: for columns that need no result processing (text,
    numbers, flags used as truthy), skipping SQLAlchemy's Row objects saves ~1/3 of the fetch."""
    result = conn.execute(statement, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def run_info(row: Row[Any], info: pb.RunInfo | None = None) -> pb.RunInfo:
    """Fill ``info`` (or a new RunInfo) from a ``runs`` row."""
    info = pb.RunInfo() if info is None else info
    run_uuid = row.run_uuid
    info.run_id = run_uuid
    info.run_uuid = run_uuid
    info.run_name = row.name or ""
    info.experiment_id = str(row.experiment_id)
    info.user_id = row.user_id or ""
    info.status = _STATUS[row.status]
    if row.start_time is not None:
        info.start_time = row.start_time
    if row.end_time is not None:
        info.end_time = row.end_time
    info.artifact_uri = row.artifact_uri or ""
    info.lifecycle_stage = row.lifecycle_stage
    return info


@dataclass(frozen=True, slots=True)
class _Statements:
    runs: Any
    metrics: Any
    params: Any
    tags: Any
    outputs: Any
    dataset_inputs: Any
    model_inputs: Any


@cache
def _statements(q: Queries) -> _Statements:
    """The hydration statements of ``q``'s database, built once (then served by SQLAlchemy's
    compiled cache)."""
    r, lm, p, t, o = s.runs.c, s.latest_metrics.c, s.params.c, s.tags.c, s.run_outputs.c
    i, d = s.inputs.c, s.datasets.c
    to_runs = (
        i.destination_type == s.INPUT_DESTINATION_RUN,
        q.any_of(i.destination_id, "ids", "VARCHAR(36)"),
    )
    return _Statements(
        runs=select(s.runs).where(q.any_of(r.run_uuid, "ids", "VARCHAR(32)")),
        metrics=select(lm.run_uuid, lm.key, lm.value, lm.is_nan, lm.timestamp, lm.step)
        .where(q.any_of(lm.run_uuid, "ids", "VARCHAR(32)"))
        .order_by(lm.run_uuid, lm.key),
        params=select(p.run_uuid, p.key, p.value)
        .where(q.any_of(p.run_uuid, "ids", "VARCHAR(32)"))
        .order_by(p.run_uuid, p.key),
        tags=select(t.run_uuid, t.key, t.value)
        .where(q.any_of(t.run_uuid, "ids", "VARCHAR(32)"))
        .order_by(t.run_uuid, t.key),
        outputs=select(o.run_uuid, o.model_id, o.step)
        .where(q.any_of(o.run_uuid, "ids", "VARCHAR(32)"))
        .order_by(o.run_uuid, o.step, o.model_id),
        dataset_inputs=select(
            i.input_uuid,
            i.destination_id,
            d.name,
            d.digest,
            d.dataset_source_type,
            d.dataset_source,
            d.dataset_schema,
            d.dataset_profile,
        )
        .join(s.datasets, and_(d.dataset_uuid == i.source_id))
        .where(*to_runs, i.source_type == s.INPUT_SOURCE_DATASET)
        .order_by(i.destination_id, d.name, d.digest),
        model_inputs=select(i.destination_id, i.source_id)
        .where(*to_runs, i.source_type == s.INPUT_SOURCE_MODEL)
        .order_by(i.destination_id, i.source_id),
    )


_INPUT_TAGS = (
    select(s.input_tags.c.input_uuid, s.input_tags.c.name, s.input_tags.c.value)
    .where(s.input_tags.c.input_uuid.in_(bindparam("uuids", expanding=True)))
    .order_by(s.input_tags.c.input_uuid, s.input_tags.c.name)
)


def load_runs(
    conn: Connection, q: Queries, run_ids: Sequence[str], *, model_inputs: bool, out: Any = None
) -> Sequence[pb.Run]:
    """Runs in the order of ``run_ids`` (unknown ids skipped), added to ``out`` if given
    (a repeated ``Run`` field) and returned."""
    statements = _statements(q)
    container = pb.SearchRuns.Response().runs if out is None else out
    unique = list(dict.fromkeys(run_ids))
    by_id: dict[str, pb.Run] = {}
    for group in q.groups(unique):
        params = {"ids": q.id_list(group)}
        rows = {row.run_uuid: row for row in conn.execute(statements.runs, params).all()}
        data_of: dict[str, pb.RunData] = {}
        for run_id in group:
            row = rows.get(run_id)
            if row is None:
                continue
            run = container.add()
            run_info(row, run.info)
            run.data.SetInParent()
            run.inputs.SetInParent()
            run.outputs.SetInParent()
            by_id[run_id] = run
            data_of[run_id] = run.data
        if data_of:
            _load_data(conn, statements, params, data_of)
            _load_inputs(conn, statements, params, by_id, model_inputs)
            for run_uuid, model_id, step in plain_rows(conn, statements.outputs, params):
                by_id[run_uuid].outputs.model_outputs.add(model_id=model_id, step=step)
    if len(unique) != len(run_ids):  # repeated ids: the caller wants one entry per id
        ordered = [by_id[i] for i in run_ids if i in by_id]
        return ordered if out is None else _refill(container, ordered)
    return container if out is not None else list(container)


def _load_data(
    conn: Connection, statements: _Statements, params: dict[str, Any], data_of: dict[str, pb.RunData]
) -> None:
    """Latest metrics, params and tags; rows come ordered by run, so each run's container is
    looked up once per run, not once per row."""
    nan = math.nan
    current, container = "", _NONE
    for run_uuid, key, value, is_nan, timestamp, step in plain_rows(conn, statements.metrics, params):
        if run_uuid != current:
            current, container = run_uuid, data_of[run_uuid].metrics
        container.add(key=key, value=nan if is_nan else value, timestamp=timestamp, step=step)
    current, container = "", _NONE
    for run_uuid, key, value in plain_rows(conn, statements.params, params):
        if run_uuid != current:
            current, container = run_uuid, data_of[run_uuid].params
        container.add(key=key, value=value)
    current, container = "", _NONE
    for run_uuid, key, value in plain_rows(conn, statements.tags, params):
        if run_uuid != current:
            current, container = run_uuid, data_of[run_uuid].tags
        container.add(key=key, value=value or "")


def _load_inputs(
    conn: Connection,
    statements: _Statements,
    params: dict[str, Any],
    by_id: dict[str, pb.Run],
    model_inputs: bool,
) -> None:
    inputs_by_uuid: dict[str, pb.DatasetInput] = {}
    for row in conn.execute(statements.dataset_inputs, params).all():
        dataset_input = by_id[row.destination_id].inputs.dataset_inputs.add()
        ds = dataset_input.dataset
        ds.name = row.name
        ds.digest = row.digest
        ds.source_type = row.dataset_source_type
        ds.source = row.dataset_source
        # MLflow leaves an empty schema/profile out of the message (tests/differential).
        if row.dataset_schema:
            ds.schema = row.dataset_schema
        if row.dataset_profile:
            ds.profile = row.dataset_profile
        inputs_by_uuid[row.input_uuid] = dataset_input
    for chunk in chunks(list(inputs_by_uuid)):
        for input_uuid, tag_name, tag_value in conn.execute(_INPUT_TAGS, {"uuids": list(chunk)}):
            inputs_by_uuid[input_uuid].tags.add(key=tag_name, value=tag_value)
    if model_inputs:
        for destination_id, source_id in conn.execute(statements.model_inputs, params):
            by_id[destination_id].inputs.model_inputs.add(model_id=source_id)


def _refill(container: Any, ordered: list[pb.Run]) -> Any:
    """Replace ``container``'s runs with ``ordered`` (copies; only for repeated ids)."""
    copies = [pb.Run() for _ in ordered]
    for copy, run in zip(copies, ordered, strict=True):
        copy.CopyFrom(run)
    del container[:]
    container.extend(copies)
    return container
