"""Trace reads: infos with their tags, metadata and assessments, and span bodies, for a set of ids
in a fixed number of queries (never one per trace)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, select

from runstash_metadata.tracing.schema import (
    trace_assessments,
    trace_info,
    trace_request_metadata,
    trace_spans,
    trace_tags,
)

ti, ts, ta = trace_info.c, trace_spans.c, trace_assessments.c


@dataclass(slots=True)
class LoadedInfo:
    row: Row[Any]
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    assessments: list[bytes] = field(default_factory=list)


def load_infos(conn: Connection, trace_ids: Sequence[str]) -> dict[str, LoadedInfo]:
    ids = list(dict.fromkeys(trace_ids))
    if not ids:
        return {}
    out = {
        row.trace_id: LoadedInfo(row) for row in conn.execute(select(trace_info).where(ti.trace_id.in_(ids)))
    }
    if not out:
        return out
    found = list(out)
    for table, attr in ((trace_tags, "tags"), (trace_request_metadata, "metadata")):
        c = table.c
        for tid, key, value in conn.execute(select(c.trace_id, c.key, c.value).where(c.trace_id.in_(found))):
            getattr(out[tid], attr)[key] = value if value is not None else ""
    query = (
        select(ta.trace_id, ta.body).where(ta.trace_id.in_(found)).order_by(ta.create_time, ta.assessment_id)
    )
    for tid, body in conn.execute(query):
        out[tid].assessments.append(bytes(body))
    return out


def load_spans(conn: Connection, trace_ids: Sequence[str]) -> dict[str, list[bytes]]:
    """Each trace's spans (serialized OTLP spans) in start order."""
    ids = list(dict.fromkeys(trace_ids))
    out: dict[str, list[bytes]] = {tid: [] for tid in ids}
    if not ids:
        return out
    query = (
        select(ts.trace_id, ts.content)
        .where(ts.trace_id.in_(ids))
        .order_by(ts.trace_id, ts.start_time_ns, ts.span_id)
    )
    for tid, content in conn.execute(query):
        out[tid].append(bytes(content))
    return out
