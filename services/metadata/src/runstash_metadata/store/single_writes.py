"""Single-point writes (log-metric, set-tag, log-param) through group commit.

Each call is one :class:`SingleWrite`; concurrent calls, across runs, are written by one
transaction (see :mod:`.group_commit`): one run-state check for every run of the group, one
multi-row statement per table, one commit. A group of metric points only is one call of
``Queries.write_live_points`` (on PostgreSQL a single statement: run check, points and latest
metrics together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runstash_protos.metrics import count_points
from sqlalchemy import Connection

from runstash_metadata.store.checks import run_state_error
from runstash_metadata.store.database import Database
from runstash_metadata.store.group_commit import GroupCommit, Outcome
from runstash_metadata.store.params_tags import write_params, write_tags
from runstash_metadata.store.points import Points
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import PARAM_VALUE_MAX, TAG_VALUE_MAX

# (key, value, timestamp, step) of one metric point, value as given (NaN/inf mapped on write).
PointTuple = tuple[str, float, int, int]


@dataclass(frozen=True, slots=True)
class SingleWrite:
    """One caller's write: exactly one of ``point``, ``tag`` (key, value), ``param`` (key, value)."""

    run_id: str
    point: PointTuple | None = None
    tag: tuple[str, str] | None = None
    param: tuple[str, str] | None = None


def _points(writes: Sequence[SingleWrite]) -> Points:
    rows = []
    for w in writes:
        assert w.point is not None
        key, value, timestamp, step = w.point
        rows.append((w.run_id, key, value, timestamp, step))
    return Points.of_points(rows)


def write_group(conn: Connection, q: Queries, writes: Sequence[SingleWrite]) -> list[Outcome]:
    """Write ``writes`` in ``conn``'s transaction; each write's outcome (None or its error).
    A write to a missing or deleted run, or a param conflict, fails only that write."""
    run_ids = sorted({w.run_id for w in writes})
    if all(w.point is not None for w in writes):
        stages = q.write_live_points(conn, run_ids, _points(writes))
        written: list[Outcome] = [run_state_error(w.run_id, stages.get(w.run_id)) for w in writes]
        count_points(written.count(None))
        return written
    stages = q.run_stages(conn, run_ids)
    outcomes: list[Outcome] = [run_state_error(w.run_id, stages.get(w.run_id)) for w in writes]
    live = [w for w, error in zip(writes, outcomes, strict=True) if error is None]
    points = [w for w in live if w.point is not None]
    if points:
        q.write_points(conn, _points(points), dedupe=True)
        count_points(len(points))
    tags: dict[tuple[str, str], str] = {}
    for w in live:  # arrival order: the last write of a key wins, as if one after another
        if w.tag is not None:
            tags[(w.run_id, w.tag[0])] = w.tag[1]
    write_tags(conn, q, tags)
    params = [w for w in live if w.param is not None]
    if params:
        writes_of = [(w.run_id, *w.param) for w in params if w.param is not None]
        conflicts = write_params(conn, q, writes_of)
        errors = {(c.run_id, c.key, c.new_value): c.single_write_error() for c in conflicts}
        outcomes = [
            errors.get((w.run_id, *w.param), o) if w.param is not None else o
            for w, o in zip(writes, outcomes, strict=True)
        ]
    return outcomes


class SingleWrites:
    """Group-committed log-metric / set-tag / log-param over one database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._group: GroupCommit[SingleWrite] = GroupCommit(
            self._write_group, in_flight=db.q.group_commits_in_flight
        )

    def _write_group(self, writes: Sequence[SingleWrite]) -> list[Outcome]:
        with self._db.transaction() as conn:
            return write_group(conn, self._db.q, writes)

    def log_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        self._group.submit(SingleWrite(run_id, point=(key, value, timestamp, step)))

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._group.submit(SingleWrite(run_id, tag=(key, value[:TAG_VALUE_MAX])))

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self._group.submit(SingleWrite(run_id, param=(key, value[:PARAM_VALUE_MAX])))
