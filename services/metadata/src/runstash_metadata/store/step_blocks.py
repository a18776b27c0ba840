"""The steps of the exact bulk-interval sample, found through the step blocks (no history scan).

Where the database keeps step blocks (``queries.ddl.STEP_BLOCKS_DDL``), a run's history is known per
block of 1024 steps: how many points, which steps. When no step in the range holds more than one
point (every block's point count equals its bitmap's population), the n points in (step, ...)
order are the present steps in ascending order, so the point at position p is the p-th present
step: counted from the blocks' counts, then read off a full block by arithmetic or off a bitmap.
The caller then fetches exactly the sampled points by (run, key, step). A run with a step held by
several points in range is left to the scanning path, which orders those points by timestamp and
value.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from sqlalchemy import Connection

from runstash_metadata.store.queries import Queries
from runstash_metadata.store.queries.ddl import STEP_BLOCK_BITS

_SHIFT = STEP_BLOCK_BITS.bit_length() - 1  # block = step >> _SHIFT
# Reading a point through the primary key (a descent, a probe) costs about what scanning a few
# dozen index entries in order does: a sample keeping one point in this many or more is read as
# one range scan numbered in SQL instead (W4's 10,000-point runs sampled to 2,500).
RANGE_READ_RATIO = 16


@dataclass(slots=True)
class _Block:
    block: int
    first: int  # the block's first and last step within the range
    last: int
    points: int  # points within the range
    full: bool  # every step from first to last holds one point
    bits: str | None = None
    present: list[int] = field(default_factory=list)  # steps present in range, once computed

    def step_at(self, offset: int) -> int:
        if self.full:
            return self.first + offset
        if not self.present:
            assert self.bits is not None
            base = self.block << _SHIFT
            self.present = [
                base + i for i in range(self.first - base, self.last - base + 1) if self.bits[i] == "1"
            ]
        return self.present[offset]


@dataclass(frozen=True, slots=True)
class StepPlan:
    """Per run answered by the blocks: the (ascending) steps of its sample, or, when the sample
    keeps at least one point in RANGE_READ_RATIO, (first step, last step, points) to sample them in
    one range scan; ``scan``: the runs the blocks cannot answer (a step with several points)."""

    steps: dict[str, list[int]]
    every: dict[str, tuple[int, int, int]]
    scan: list[str]


def plan_sample(
    conn: Connection,
    q: Queries,
    run_ids: Sequence[str],
    key: str,
    *,
    bounds: tuple[int, int] | None,
    positions: Callable[[int], list[int]],
) -> StepPlan | None:
    """The sample's steps per run (``bounds``: the step range, inclusive; ``positions``: the
    sampled positions of n ordered points); None where the database keeps no step blocks."""
    edges = None if bounds is None else (bounds[0] >> _SHIFT, bounds[1] >> _SHIFT)
    rows = q.step_blocks(conn, run_ids, key, edges)
    if rows is None:
        return None
    blocks: dict[str, list[_Block]] = {}
    scan: set[str] = set()
    for run, block, points, distinct, bits in rows:
        if points != distinct:
            scan.add(run)
            continue
        found = _in_range(int(block), int(points), bits, bounds)
        if found.points:
            blocks.setdefault(run, []).append(found)
    wanted: dict[str, list[tuple[_Block, int]]] = {}
    every: dict[str, tuple[int, int, int]] = {}
    for run, run_blocks in blocks.items():
        if run in scan:
            continue
        n = sum(b.points for b in run_blocks)
        sampled = positions(n)
        if len(sampled) * RANGE_READ_RATIO >= n:  # dense: one range scan beats a probe per point
            every[run] = (run_blocks[0].first, run_blocks[-1].last, n)
            continue
        wanted[run] = _locate(run_blocks, sampled)
    _load_bits(conn, q, key, wanted)
    steps = {run: [b.step_at(offset) for b, offset in found] for run, found in wanted.items()}
    return StepPlan(steps, every, sorted(scan))


def _in_range(block: int, points: int, bits: str | None, bounds: tuple[int, int] | None) -> _Block:
    first, last = block << _SHIFT, (block << _SHIFT) + STEP_BLOCK_BITS - 1
    if bounds is not None:
        first, last = max(first, bounds[0]), min(last, bounds[1])
    if points == STEP_BLOCK_BITS:
        return _Block(block, first, last, last - first + 1, full=True)
    if bits is not None:  # an edge block of a range: count what falls within it
        base = block << _SHIFT
        return _Block(block, first, last, bits[first - base : last - base + 1].count("1"), False, bits)
    return _Block(block, first, last, points, full=False)


def _locate(blocks: list[_Block], positions: list[int]) -> list[tuple[_Block, int]]:
    """(block, offset within it) of each position."""
    ends = list(accumulate(b.points for b in blocks))  # one past each block's last position
    found: list[tuple[_Block, int]] = []
    for position in positions:
        index = bisect_right(ends, position)
        found.append((blocks[index], position - (ends[index - 1] if index else 0)))
    return found


def _load_bits(conn: Connection, q: Queries, key: str, wanted: dict[str, list[tuple[_Block, int]]]) -> None:
    """Fetch the bitmaps of the not-full blocks holding sampled points, in one statement."""
    missing = {
        (run, b.block): b for run, found in wanted.items() for b, _ in found if not b.full and b.bits is None
    }
    if missing:
        for run_block, bits in q.step_block_bits(conn, key, list(missing)).items():
            missing[run_block].bits = bits
