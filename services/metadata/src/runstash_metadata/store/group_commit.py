"""Group commit: concurrent small writes share one transaction and one commit.

A single log-metric is a few microseconds of SQL and a whole commit (a WAL flush) of waiting.
Callers of :meth:`GroupCommit.submit` queue their item; a caller that finds fewer than
``in_flight`` groups being written becomes a leader, takes everything queued (its own item
included), writes it with ``write_group`` in one transaction, and wakes the followers with their
own outcome. Items that arrive while every slot is busy wait for the next group, whose leader is
the first of them to wake up. A few groups in flight keep the database busy while one of them
waits for its commit (the database merges concurrent WAL flushes itself). A caller returns only
after the transaction holding its item has committed.

``write_group`` reports per-item failures (unknown run, bad state) as return values, so one bad
item never fails the others. If the group transaction fails as a whole (deadlock, lost
connection, an unexpected constraint), nothing of it was committed, and each item is retried in
its own transaction, so errors stay with the item that caused them and nothing is lost or doubled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from runstash_protos.metrics import observe_group_commit

T = TypeVar("T")

# The outcome of one item: None (committed) or the exception its caller must see.
Outcome = BaseException | None
WriteGroup = Callable[[Sequence[T]], list[Outcome]]

# Bounds one transaction's statements (bind arrays, row locks); the rest waits for the next group.
MAX_GROUP = 2000


class _Ticket(Generic[T]):
    __slots__ = ("done", "error", "item", "taken")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.taken = False  # in a group being written
        self.error: Outcome = None


class GroupCommit(Generic[T]):
    """Leader/follower batching of ``write_group`` calls (thread-safe, no background thread)."""

    def __init__(self, write_group: WriteGroup[T], max_group: int = MAX_GROUP, in_flight: int = 1) -> None:
        self._write_group = write_group
        self._max_group = max_group
        self._in_flight = in_flight
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Ticket[T]] = []
        self._writing = 0  # groups being written

    def submit(self, item: T) -> None:
        """Write ``item``; return once it is committed, or raise its own error."""
        ticket = _Ticket(item)
        with self._cond:
            self._queue.append(ticket)
            while not ticket.done and (ticket.taken or self._writing >= self._in_flight):
                self._cond.wait()
            if ticket.done:
                if ticket.error is not None:
                    raise ticket.error
                return
            # A free slot and ours not taken yet: lead the next group (ours first, then the
            # oldest waiting items).
            self._writing += 1
            self._queue.remove(ticket)
            group = [ticket, *self._queue[: self._max_group - 1]]
            del self._queue[: self._max_group - 1]
            for t in group:
                t.taken = True
        try:
            self._write(group)
        finally:
            with self._cond:
                for t in group:
                    if not t.done:  # interrupted (BaseException): its callers must not hang
                        t.error, t.done = RuntimeError("group commit interrupted"), True
                self._writing -= 1
                self._cond.notify_all()
        if ticket.error is not None:
            raise ticket.error

    def _write(self, group: list[_Ticket[T]]) -> None:
        observe_group_commit(len(group))
        try:
            outcomes = self._write_group([t.item for t in group])
        except Exception as exc:
            # Nothing of the group was committed: one transaction per item, so each error stays
            # with the item that caused it.
            outcomes = [exc] if len(group) == 1 else [_outcome_of(self._write_group, t.item) for t in group]
        for t, outcome in zip(group, outcomes, strict=True):
            t.error, t.done = outcome, True


def _outcome_of(write_group: WriteGroup[T], item: T) -> Outcome:
    try:
        return write_group([item])[0]
    except Exception as exc:  # the item's own failure, surfaced to its caller
        return exc
