"""Metric history reads: a run's full or paged history, and the bulk history of several runs.

The sampled read of the charts is :mod:`.sampled_history`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import (
    Connection,
    select,
)

from runstash_metadata.store import schema as s
from runstash_metadata.store.hydration import plain_rows
from runstash_metadata.store.values import (
    decode_offset_token,
    encode_offset_token,
    loaded_value,
)


def get_metric_history(
    conn: Connection,
    run_id: str,
    key: str,
    max_results: int | None = None,
    page_token: str | None = None,
    *,
    out: Any = None,
) -> tuple[Sequence[pb.Metric], str | None]:
    """A run's points of ``key`` in (timestamp, step, value) order, paged by offset tokens;
    added in place to ``out`` (a response's repeated field) when given."""
    m = s.metrics.c
    offset = decode_offset_token(page_token)
    stmt = (
        select(m.value, m.is_nan, m.timestamp, m.step)
        .where(m.run_uuid == run_id, m.key == key)
        .order_by(m.timestamp, m.step, m.value)
    )
    if max_results is not None:
        stmt = stmt.limit(max_results + 1).offset(offset)
    elif offset:
        stmt = stmt.offset(offset)
    rows = plain_rows(conn, stmt, {})
    token = None
    if max_results is not None and len(rows) > max_results:
        del rows[max_results:]
        token = encode_offset_token(offset + max_results)
    container = pb.GetMetricHistory.Response().metrics if out is None else out
    add = container.add
    nan = math.nan
    for value, is_nan, timestamp, step in rows:
        add(key=key, value=nan if is_nan else value, timestamp=timestamp, step=step)
    return (container if out is not None else list(container)), token


def history_bulk(
    conn: Connection, run_ids: Sequence[str], key: str, max_results: int
) -> list[pb.MetricWithRunId]:
    m = s.metrics.c
    stmt = (
        select(m.run_uuid, m.value, m.is_nan, m.timestamp, m.step)
        .where(m.run_uuid.in_(list(dict.fromkeys(run_ids))), m.key == key)
        .order_by(m.run_uuid, m.timestamp, m.step, m.value)
        .limit(max_results)
    )
    return [
        pb.MetricWithRunId(key=key, value=loaded_value(v, nan), timestamp=ts, step=st, run_id=run_uuid)
        for run_uuid, v, nan, ts, st in conn.execute(stmt)
    ]
