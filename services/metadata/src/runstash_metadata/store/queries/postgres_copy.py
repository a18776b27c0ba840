"""PostgreSQL: metric points loaded with COPY (the ingest stream's bulk path).

``COPY metrics FROM STDIN (FORMAT binary)`` takes the rows from one in-memory buffer: PostgreSQL
inserts them a page at a time (one WAL record per page instead of one per row) and parses no
text at all (no array literals, no float or integer input functions), and there is no unnest and
no sort. Here each (run, key)'s rows are packed by ``struct`` in C loops (``map`` over the
columns), in the order they came, one (run, key) after another in sorted order, so a history
stays together on disk as the fused statement's sorted insert keeps it. What that statement
(``postgres._POINTS``) derives in SQL is derived here per (run, key): the step blocks (count,
bitmap, timestamp range per 1024 steps) and the latest point, which goes through the store's one
latest-metric upsert (``Queries.latest_metric_upsert``).

Concurrent writers need no common row order: two transactions only meet on the same point when a
batch is resent while its first copy is still being written, and both copies hold the points in
the client's order, so one waits for the other and never the other way round.

COPY has no ON CONFLICT: a point already stored aborts it with a unique violation, raised as
:class:`~..points.DuplicatePoints` so the caller writes the batch again through the
deduplicating statement (a resent batch, rare).
"""

from __future__ import annotations

import io
import struct
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

from runstash_protos.errors import ErrorCode, RunstashError
from sqlalchemy import Connection, text
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store.points import DuplicatePoints, Points
from runstash_metadata.store.queries.base import UNAVAILABLE_MESSAGE
from runstash_metadata.store.queries.ddl import STEP_BLOCK_BITS

_COPY = 'COPY metrics (run_uuid, key, value, is_nan, "timestamp", step) FROM STDIN (FORMAT binary)'
# The binary format: signature, flags, header extension length; each row: field count, then each
# field's length and bytes (big-endian); the trailer is a field count of -1.
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
# A row's fields after run and key: value (float8), is_nan (bool), timestamp and step (int8).
_TAIL = struct.Struct(">di?iqiq")
_SHIFT = STEP_BLOCK_BITS.bit_length() - 1
_LOW = STEP_BLOCK_BITS - 1
# The block rows are computed here; the merge with stored blocks is the fused statement's.
_BLOCKS_SQL = text(f"""
INSERT INTO metric_step_blocks AS b (run_uuid, key, block, points, steps, min_ts, max_ts)
SELECT * FROM unnest(
    CAST(:runs AS VARCHAR(32)[]), CAST(:keys AS VARCHAR(250)[]), CAST(:blocks AS BIGINT[]),
    CAST(:points AS BIGINT[]), CAST(:bits AS BIT({STEP_BLOCK_BITS})[]),
    CAST(:min_ts AS BIGINT[]), CAST(:max_ts AS BIGINT[])
) ORDER BY 1, 2, 3
ON CONFLICT (run_uuid, key, block) DO UPDATE SET points = b.points + excluded.points,
    steps = b.steps | excluded.steps,
    min_ts = least(b.min_ts, excluded.min_ts), max_ts = greatest(b.max_ts, excluded.max_ts)
""")


def copy_points(conn: Connection, points: Points, latest_upsert: Insert) -> None:
    """Insert the points (raising DuplicatePoints if one is stored, or twice in ``points``) and
    apply them to the step blocks and the latest metrics: three round trips, whatever the size."""
    chunks, blocks, latest = [_HEADER], _Blocks(), []
    for (run, key), at in _positions(points):
        values, nans = _gather(points.values, at), _gather(points.nans, at)
        timestamps, steps = _gather(points.timestamps, at), _gather(points.steps, at)
        chunks.append(_rows(run, key, values=values, nans=nans, timestamps=timestamps, steps=steps))
        blocks.add(run, key, steps, timestamps)
        step, ts, value, nan = _latest(steps, timestamps, values, nans)
        latest.append(
            {"run_uuid": run, "key": key, "value": value, "is_nan": nan, "timestamp": ts, "step": step}
        )
    chunks.append(_TRAILER)
    _copy(conn, b"".join(chunks))
    conn.execute(_BLOCKS_SQL, blocks.params())
    conn.execute(latest_upsert, latest)


def _positions(points: Points) -> list[tuple[tuple[str, str], list[int]]]:
    """Each (run, key) in order, with its points' positions in their order (C-level sort and
    bisection instead of a Python loop over the points)."""
    names: list[Any] = (
        points.keys if len(points.runs) == 1 else list(zip(points.runs, points.keys, strict=True))
    )
    order = sorted(range(len(names)), key=names.__getitem__)  # stable: the points' order per key
    ordered = [names[i] for i in order]
    found = []
    for name in sorted(set(names)):
        first, end = bisect_left(ordered, name), bisect_right(ordered, name)
        found.append(((points.runs[0], name) if len(points.runs) == 1 else name, order[first:end]))
    return found


def _latest(
    steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float], nans: Sequence[bool]
) -> Any:
    """(step, timestamp, value, is_nan) of the greatest (step, timestamp, value)."""
    top = max(steps)
    if steps.count(top) == 1:  # the common case: found without a tuple per point
        i = steps.index(top)
        return top, timestamps[i], values[i], nans[i]
    return max(zip(steps, timestamps, values, nans, strict=True))


def _gather(column: Sequence[Any], at: list[int]) -> Sequence[Any]:
    """``column``'s items at the positions, gathered in C."""
    return itemgetter(*at)(column) if len(at) > 1 else (column[at[0]],)


def _rows(run: str, key: str, *, values: Any, nans: Any, timestamps: Any, steps: Any) -> bytes:
    """The binary COPY rows of one (run, key)."""
    run_b, key_b = run.encode(), key.encode()
    # Field count, run, key and the value's length: the same bytes in front of every row.
    prefix = struct.pack(f">hi{len(run_b)}si{len(key_b)}si", 6, len(run_b), run_b, len(key_b), key_b, 8)
    tails = map(_TAIL.pack, values, repeat(1), nans, repeat(8), timestamps, repeat(8), steps)
    return prefix + prefix.join(tails)


def _copy(conn: Connection, data: bytes) -> None:
    import psycopg2
    import psycopg2.errors

    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(_COPY, io.BytesIO(data))
    except psycopg2.errors.UniqueViolation as exc:
        raise DuplicatePoints from exc
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        # What the engine's error hook makes of a lost connection on SQLAlchemy's own path.
        raise RunstashError(ErrorCode.TEMPORARILY_UNAVAILABLE, UNAVAILABLE_MESSAGE) from exc
    finally:
        cursor.close()


def _bits(steps: Sequence[int]) -> str:
    """The bit string of one block's steps: character i is step block * 1024 + i."""
    bits = bytearray(b"0" * STEP_BLOCK_BITS)
    deque(map(bits.__setitem__, map(_LOW.__and__, steps), repeat(ord("1"))), maxlen=0)  # C loops
    return bits.decode()


class _Blocks:
    """The step-block rows of the points, as the block statement's array parameters."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int, int, str, int, int]] = []

    def add(self, run: str, key: str, steps: Sequence[int], timestamps: Sequence[int]) -> None:
        """One (run, key)'s points: a row per block of 1024 steps (count, bitmap, ts range)."""
        if min(steps) >> _SHIFT == max(steps) >> _SHIFT:
            # The common case (a group of batches within one block): all in C.
            self.rows.append(
                (run, key, steps[0] >> _SHIFT, len(steps), _bits(steps), min(timestamps), max(timestamps))
            )
            return
        per_block: dict[int, list[int]] = {}
        for i, step in enumerate(steps):
            per_block.setdefault(step >> _SHIFT, []).append(i)
        for block, at in sorted(per_block.items()):
            in_block, ts = _gather(steps, at), _gather(timestamps, at)
            self.rows.append((run, key, block, len(at), _bits(in_block), min(ts), max(ts)))

    def params(self) -> dict[str, str]:
        from runstash_metadata.store.queries.postgres import pg_number_array, pg_text_array

        runs, keys, blocks, points, masks, min_ts, max_ts = zip(*self.rows, strict=True)
        return {
            "runs": pg_text_array(runs),
            "keys": pg_text_array(keys),
            "blocks": pg_number_array(blocks),
            "points": pg_number_array(points),
            "bits": "{" + ",".join(masks) + "}",
            "min_ts": pg_number_array(min_ts),
            "max_ts": pg_number_array(max_ts),
        }
