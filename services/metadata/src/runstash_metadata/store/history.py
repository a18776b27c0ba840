"""Metric history reads: a run's full or paged history, and the bulk history of several runs.

The sampled read of the charts is :mod:`.sampled_history`.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import Connection, select

from runstash_metadata.store import schema as s
from runstash_metadata.store.hydration import plain_rows
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.queries.ddl import STEP_BLOCK_BITS
from runstash_metadata.store.values import (
    decode_offset_token,
    encode_offset_token,
    loaded_value,
)

_SHIFT = STEP_BLOCK_BITS.bit_length() - 1


def get_metric_history(  # noqa: PLR0917 - the RPC's fields, in order
    conn: Connection,
    q: Queries,
    run_id: str,
    key: str,
    max_results: int | None = None,
    page_token: str | None = None,
    *,
    out: Any = None,
) -> tuple[Sequence[pb.Metric], str | None]:
    """A run's points of ``key`` in (timestamp, step, value) order, paged; added in place to
    ``out`` (a response's repeated field) when given.

    A page of a history whose order goes block by block (``q.history_blocks``) reads only the
    step blocks holding it, through the primary key: the blocks' point counts say where the offset
    falls. Otherwise the history is sorted and the offset skips the earlier pages."""
    offset = decode_offset_token(page_token)
    blocks = q.history_blocks(conn, run_id, key) if max_results is not None else None
    if max_results is not None and blocks is not None:
        rows = _page_by_blocks(conn, run_id, key, blocks, offset, max_results + 1)
    else:
        rows = _sorted_page(conn, run_id, key, max_results, offset)
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


def _sorted_page(conn: Connection, run_id: str, key: str, limit: int | None, offset: int) -> list[Any]:
    m = s.metrics.c
    stmt = (
        select(m.value, m.is_nan, m.timestamp, m.step)
        .where(m.run_uuid == run_id, m.key == key)
        .order_by(m.timestamp, m.step, m.value)
    )
    if limit is not None:
        stmt = stmt.limit(limit + 1).offset(offset)
    elif offset:
        stmt = stmt.offset(offset)
    return plain_rows(conn, stmt, {})


def _order(row: Any) -> tuple[int, int, int, float, bool]:
    """A (value, is_nan, timestamp, step) row's place: block, then (timestamp, step, value)."""
    return row[3] >> _SHIFT, row[2], row[3], row[0], row[1]


def _page_by_blocks(  # noqa: PLR0917
    conn: Connection, run_id: str, key: str, blocks: list[tuple[int, int]], offset: int, limit: int
) -> list[Any]:
    """Up to ``limit`` points from position ``offset``, reading just the blocks that hold them."""
    ends = list(accumulate(points for _, points in blocks))  # one past each block's last position
    first = bisect_right(ends, offset)
    if first == len(blocks):
        return []
    skip = offset - (ends[first - 1] if first else 0)  # points of the first block before the page
    last = min(bisect_left(ends, offset + limit), len(blocks) - 1)
    m = s.metrics.c
    lo, hi = blocks[first][0] << _SHIFT, (blocks[last][0] << _SHIFT) + STEP_BLOCK_BITS - 1
    stmt = (
        select(m.value, m.is_nan, m.timestamp, m.step)
        .where(m.run_uuid == run_id, m.key == key, m.step.between(lo, hi))
        .order_by(m.step, m.timestamp, m.value, m.is_nan)
    )
    rows = plain_rows(conn, stmt, {})
    rows.sort(key=_order)  # block by block already: only each block's own order changes
    return rows[skip : skip + limit]


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
