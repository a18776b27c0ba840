"""Trace writes: span batches (the OTLP bulk path), TraceInfo upserts, tags, links and deletes.

Plain functions ``(conn, q, ...)``; the caller owns the transaction, so a batch is all or nothing.
Every statement covers the whole batch (executemany or IN lists): no per-span round trip.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runstash_protos.errors import invalid_parameter
from sqlalchemy import Connection, bindparam, delete, func, select, update

from runstash_metadata.store.queries import Queries
from runstash_metadata.tracing import spans as sp
from runstash_metadata.tracing.schema import (
    trace_assessments,
    trace_info,
    trace_request_metadata,
    trace_spans,
    trace_tags,
)

ti, ts = trace_info.c, trace_spans.c
# The tables whose rows belong to a trace, deleted before its trace_info row.
_OWNED = (trace_spans, trace_tags, trace_request_metadata, trace_assessments)
SESSION_KEY = "mlflow.trace.session"
USER_KEY = "mlflow.trace.user"
TOKEN_USAGE_KEY = "mlflow.trace.tokenUsage"
SOURCE_RUN_KEY = "mlflow.sourceRun"
SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
TRACE_NAME_TAG = "mlflow.traceName"
ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
INFO_FINALIZED_KEY = "mlflow.trace.infoFinalized"
_SPAN_COLUMNS = ("parent_span_id", "experiment_id", "name", "span_type", "status", "start_time_ns",
                 "end_time_ns", "attributes", "content")  # fmt: skip

_ROOT_UPDATE = (
    update(trace_info)
    .where(ti.trace_id == bindparam("b_id"))
    .values(
        request_time=bindparam("b_start"),
        execution_duration=bindparam("b_duration"),
        state=bindparam("b_state"),
        name=bindparam("b_name"),
        # A preview the client already sent (StartTraceV3 may come first) is kept, as MLflow does.
        request_preview=func.coalesce(ti.request_preview, bindparam("b_request")),
        response_preview=func.coalesce(ti.response_preview, bindparam("b_response")),
        root_seen=True,
    )
)
_COUNT_UPDATE = (
    update(trace_info)
    .where(ti.trace_id == bindparam("b_id"))
    .values(span_count=ti.span_count + bindparam("b_n"))
)
_SESSION_UPDATE = (
    update(trace_info)
    .where(ti.trace_id == bindparam("b_id"))
    .values(session_id=bindparam("b_session"), user_id=bindparam("b_user"))
)


def trace_experiments(conn: Connection, trace_ids: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(select(ti.trace_id, ti.experiment_id).where(ti.trace_id.in_(list(trace_ids))))
    return {row[0]: row[1] for row in rows}


def trace_artifacts(experiment_location: str, trace_id: str) -> str:
    """Where MLflow says a trace's attachments live (``mlflow.artifactLocation``)."""
    return f"{experiment_location.rstrip('/')}/traces/{trace_id}/artifacts"


def write_spans(
    conn: Connection,
    q: Queries,
    experiment_id: int,
    rows: Sequence[sp.SpanRow],
    run_id: str | None,
    *,
    artifact_root: str = "",
) -> None:
    """One OTLP batch: create the traces it starts, store its spans (a re-sent span replaces the
    stored one) and refresh the derived trace fields. Each table gets one bulk statement for the
    whole batch; traces already stored add a few updates. The spans and tags of traces this
    batch created are plain inserts where the database says which traces those are."""
    digests = sp.digest(rows)
    # A re-sent span replaces the stored one; within one batch the last copy wins.
    unique = {(row.trace_id, row.span_id): row for row in rows}
    counts: dict[str, int] = {}
    for trace_id, _ in unique:
        counts[trace_id] = counts.get(trace_id, 0) + 1
    created = _create_traces(conn, q, digests, counts, experiment_id=experiment_id, run_id=run_id)
    foreign = [tid for tid, eid in created.existing.items() if eid != experiment_id]
    if foreign:
        # Raised after the trace_info insert: the caller's transaction drops it with the batch.
        raise invalid_parameter(f"Trace {foreign[0]} belongs to another experiment than {experiment_id}.")
    if created.existing:
        counts = _unstored_counts(conn, unique, created.existing)
    _update_existing(conn, digests, counts, created.existing)
    new = [row.row(experiment_id) for key, row in unique.items() if key[0] in created.exact]
    old = [row.row(experiment_id) for key, row in unique.items() if key[0] not in created.exact]
    q.insert_rows(conn, trace_spans, new)
    q.bulk_write(conn, trace_spans, ["trace_id", "span_id"], _SPAN_COLUMNS, old)
    bookkeeping = {
        tid: {
            SPANS_LOCATION_TAG: "TRACKING_STORE",
            ARTIFACT_LOCATION_TAG: trace_artifacts(artifact_root, tid),
        }
        for tid in created.fresh
    }
    _derived(conn, q, digests, run_id, bookkeeping=bookkeeping, exact=created.exact)


@dataclass(frozen=True, slots=True)
class _Created:
    fresh: set[str]  # the batch's traces whose trace_info row this batch inserted
    exact: set[str]  # those of them the insert itself reported: no row of theirs is stored
    existing: dict[str, int]  # the batch's other traces -> their experiment


def _create_traces(
    conn: Connection,
    q: Queries,
    digests: Mapping[str, sp.Digest],
    counts: Mapping[str, int],
    *,
    experiment_id: int,
    run_id: str | None,
) -> _Created:
    """A trace new to the store (the usual case: its spans arrive together) is inserted complete;
    traces already stored are returned with their experiment, for the caller to check and update."""
    infos = {t: _new_info(d, experiment_id, run_id, counts[t]) for t, d in digests.items()}
    inserted = q.insert_new(conn, trace_info, "trace_id", list(infos.values()))
    if inserted is not None:
        others = [t for t in digests if t not in inserted]
        return _Created(inserted, inserted, trace_experiments(conn, others) if others else {})
    existing = trace_experiments(conn, list(digests))
    fresh = [row for t, row in infos.items() if t not in existing]
    q.bulk_write(conn, trace_info, ["trace_id"], [], fresh)
    return _Created({row["trace_id"] for row in fresh}, set(), existing)


def _unstored_counts(
    conn: Connection, keys: Iterable[tuple[str, str]], existing: Mapping[str, int]
) -> dict[str, int]:
    """Per stored trace of the batch, how many of its spans the store does not hold yet: a re-sent
    span replaces the stored copy and adds nothing to ``span_count``."""
    query = select(ts.trace_id, ts.span_id).where(ts.trace_id.in_(list(existing)))
    stored = {(row[0], row[1]) for row in conn.execute(query)}
    counts: dict[str, int] = {}
    for key in keys:
        if key[0] in existing and key not in stored:
            counts[key[0]] = counts.get(key[0], 0) + 1
    return counts


def _update_existing(
    conn: Connection, digests: Mapping[str, sp.Digest], counts: Mapping[str, int], existing: Mapping[str, int]
) -> None:
    """Root fields, span counts and session/user of the batch's traces that were already stored."""
    if not existing:
        return
    roots = [_root_values(d) for t, d in digests.items() if d.root is not None and t in existing]
    if roots:
        conn.execute(_ROOT_UPDATE, roots)
    added = [{"b_id": t, "b_n": n} for t, n in counts.items() if t in existing and n]
    if added:
        conn.execute(_COUNT_UPDATE, added)
    people = [
        {"b_id": t, "b_session": d.session_id, "b_user": d.user_id}
        for t, d in digests.items()
        if t in existing and (d.session_id is not None or d.user_id is not None)
    ]
    if people:
        conn.execute(_SESSION_UPDATE, people)


def _new_info(d: sp.Digest, experiment_id: int, run_id: str | None, span_count: int) -> dict[str, Any]:
    row = {
        "trace_id": d.trace_id,
        "experiment_id": experiment_id,
        "client_request_id": None,
        "request_time": d.start_ms,
        "execution_duration": None if d.end_ms is None else d.end_ms - d.start_ms,
        "state": d.state,
        "request_preview": None,
        "response_preview": None,
        "name": None,
        "session_id": d.session_id,
        "user_id": d.user_id,
        "run_id": run_id,
        "span_count": span_count,
        "root_seen": d.root is not None,
    }
    if d.root is not None:
        root = _root_values(d)
        row.update(
            request_time=root["b_start"],
            execution_duration=root["b_duration"],
            name=root["b_name"],
            request_preview=root["b_request"],
            response_preview=root["b_response"],
        )
    return row


def _root_values(d: sp.Digest) -> dict[str, Any]:
    root = d.root
    assert root is not None
    start = root.start_ns // 1_000_000
    end = None if root.end_ns is None else root.end_ns // 1_000_000
    return {
        "b_id": d.trace_id,
        "b_start": start,
        "b_duration": None if end is None else end - start,
        "b_state": d.state,
        "b_name": root.name[:500],
        "b_request": sp.preview(root.raw_inputs),
        "b_response": sp.preview(root.raw_outputs),
    }


def _derived(
    conn: Connection,
    q: Queries,
    digests: Mapping[str, sp.Digest],
    run_id: str | None,
    *,
    bookkeeping: Mapping[str, Mapping[str, str]],
    exact: set[str],
) -> None:
    """Trace tags and metadata the batch implies, each table in one bulk upsert (a plain insert
    for the traces in ``exact``, which have no stored rows)."""
    tags: list[dict[str, Any]] = []
    meta: list[dict[str, Any]] = []
    for tid, d in digests.items():
        # Bookkeeping first, then resource attributes, then the root's mlflow.traceTag.* (later
        # wins on a collision, as separate upserts in this order would).
        pairs = {**bookkeeping.get(tid, {}), **d.resource_tags, **d.tags}
        if d.root is not None and d.tags.get(TRACE_NAME_TAG) is None:
            pairs[TRACE_NAME_TAG] = d.root.name
        tags.extend({"trace_id": tid, "key": k, "value": v} for k, v in pairs.items())
        if d.session_id is not None:
            meta.append({"trace_id": tid, "key": SESSION_KEY, "value": d.session_id})
        if d.user_id is not None:
            meta.append({"trace_id": tid, "key": USER_KEY, "value": d.user_id})
        if run_id:
            meta.append({"trace_id": tid, "key": SOURCE_RUN_KEY, "value": run_id})
    usage_ids = [tid for tid, d in digests.items() if d.has_usage]
    if usage_ids:
        meta.extend(_token_usage(conn, usage_ids))
    for table, batch in ((trace_tags, tags), (trace_request_metadata, meta)):
        q.insert_rows(conn, table, [r for r in batch if r["trace_id"] in exact])
        stored = [r for r in batch if r["trace_id"] not in exact]
        q.bulk_write(conn, table, ["trace_id", "key"], ["value"], stored)


def _token_usage(conn: Connection, trace_ids: Sequence[str]) -> list[dict[str, Any]]:
    nodes: dict[str, list[tuple[str, str | None, Any]]] = {tid: [] for tid in trace_ids}
    query = select(ts.trace_id, ts.span_id, ts.parent_span_id, ts.attributes).where(
        ts.trace_id.in_(list(trace_ids))
    )
    for tid, span_id, parent, stored in conn.execute(query):
        nodes[tid].append((span_id, parent, json.loads(stored) if isinstance(stored, str) else stored))
    out = []
    for tid, spans in nodes.items():
        usage = sp.aggregate_usage(spans)
        if usage:
            out.append({"trace_id": tid, "key": TOKEN_USAGE_KEY, "value": json.dumps(usage)})
    return out


def upsert_info(
    conn: Connection,
    q: Queries,
    values: Mapping[str, Any],
    tags: Mapping[str, str],
    metadata: Mapping[str, str],
) -> None:
    """StartTraceV3 / EndTrace: the client's TraceInfo merged over what span ingest made."""
    tid = values["trace_id"]
    found = conn.execute(select(ti.experiment_id).where(ti.trace_id == tid)).first()
    if found is None:
        row = {**dict.fromkeys(c.name for c in trace_info.columns), "span_count": 0, "root_seen": False}
        row.update({k: v for k, v in values.items() if v is not None})
        row["state"] = row["state"] or "IN_PROGRESS"
        conn.execute(q.insert_ignore(trace_info, ["trace_id"]), [row])
    elif found[0] != values.get("experiment_id", found[0]):
        raise invalid_parameter(f"Trace {tid} belongs to another experiment.")
    # Also after an insert: span ingest may have created the row in between (the insert was then
    # ignored), and the client's fields still win.
    given = {k: v for k, v in values.items() if v is not None and k not in ("trace_id", "experiment_id")}
    if given:
        conn.execute(update(trace_info).where(ti.trace_id == tid).values(**given))
    set_pairs(conn, q, tid, tags, metadata)


def set_pairs(
    conn: Connection, q: Queries, trace_id: str, tags: Mapping[str, str], metadata: Mapping[str, str]
) -> None:
    if tags:
        rows = [{"trace_id": trace_id, "key": k, "value": v} for k, v in tags.items()]
        conn.execute(q.upsert(trace_tags, ["trace_id", "key"], ["value"]), rows)
        if tags.get(TRACE_NAME_TAG):
            # The name column follows the tag (searches on trace.name read the column).
            name = tags[TRACE_NAME_TAG][:500]
            conn.execute(update(trace_info).where(ti.trace_id == trace_id).values(name=name))
    if metadata:
        rows = [{"trace_id": trace_id, "key": k, "value": v} for k, v in metadata.items()]
        conn.execute(q.upsert(trace_request_metadata, ["trace_id", "key"], ["value"]), rows)
        derived = {
            "session_id": metadata.get(SESSION_KEY),
            "user_id": metadata.get(USER_KEY),
            "run_id": metadata.get(SOURCE_RUN_KEY),
        }
        derived = {k: v for k, v in derived.items() if v}
        if derived:
            conn.execute(update(trace_info).where(ti.trace_id == trace_id).values(**derived))


def delete_tag(conn: Connection, trace_id: str, key: str) -> int:
    t = trace_tags.c
    return conn.execute(delete(trace_tags).where(t.trace_id == trace_id, t.key == key)).rowcount


def link_to_run(conn: Connection, q: Queries, trace_ids: Sequence[str], run_id: str) -> None:
    conn.execute(update(trace_info).where(ti.trace_id.in_(list(trace_ids))).values(run_id=run_id))
    rows = [{"trace_id": tid, "key": SOURCE_RUN_KEY, "value": run_id} for tid in trace_ids]
    conn.execute(q.upsert(trace_request_metadata, ["trace_id", "key"], ["value"]), rows)


def oldest_traces(conn: Connection, experiment_id: int | None, max_ms: int, limit: int | None) -> list[str]:
    """Trace ids with ``request_time <= max_ms``, oldest first (an experiment's, or all)."""
    query = select(ti.trace_id).where(ti.request_time <= max_ms).order_by(ti.request_time, ti.trace_id)
    if experiment_id is not None:
        query = query.where(ti.experiment_id == experiment_id)
    if limit is not None:
        query = query.limit(limit)
    return [row[0] for row in conn.execute(query)]


def delete_traces(conn: Connection, trace_ids: Sequence[str]) -> int:
    """Delete the traces and everything they own; returns how many traces there were."""
    ids = list(trace_ids)
    if not ids:
        return 0
    for table in _OWNED:
        conn.execute(delete(table).where(table.c.trace_id.in_(ids)))
    return conn.execute(delete(trace_info).where(ti.trace_id.in_(ids))).rowcount


def delete_experiment_traces(conn: Connection, q: Queries, experiment_ids: Sequence[int]) -> int:
    """Delete every trace of the experiments, and everything they own, one statement per table
    (the ids stay in the database: an experiment may hold more traces than an IN list takes).
    On SQLite the span delete trigger keeps ``trace_spans_fts`` in step."""
    if not experiment_ids:
        return 0
    params = {"exps": q.id_list([str(e) for e in experiment_ids])}
    owned = q.any_of(ti.experiment_id, "exps", "INTEGER")
    chosen = select(ti.trace_id).where(owned)
    for table in _OWNED:
        conn.execute(delete(table).where(table.c.trace_id.in_(chosen)), params)
    return int(conn.execute(delete(trace_info).where(owned), params).rowcount)
