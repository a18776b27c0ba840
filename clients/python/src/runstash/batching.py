"""Background batching of metric points: the training loop never waits for the network.

Points queue in memory and a single sender thread ships them in batches of at most ``max_points``
(the server's log-batch limit is 1000 metrics), at latest ``max_delay`` seconds after the first
queued point. A failed send is kept and raised from the next ``flush()``/``close()``: no point is
dropped silently.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from runstash_protos import ingest_pb2
from runstash_protos import metadata_pb2 as pb

LOG_BATCH_MAX_METRICS = 1000
# The log-batch limits, which every batch of the ingest stream keeps.
MAX_METRICS = LOG_BATCH_MAX_METRICS
MAX_PARAMS = 100
MAX_TAGS = 100


class BatchItem(Protocol):
    """A queued part of a ``log_batch`` call (``runstash.ingest``)."""

    @property
    def metrics(self) -> Sequence[pb.Metric]: ...
    @property
    def params(self) -> Sequence[pb.Param]: ...
    @property
    def tags(self) -> Sequence[pb.RunTag]: ...


class MetricBatcher:
    def __init__(
        self,
        send: Callable[[Sequence[pb.Metric]], None],
        *,
        max_points: int = LOG_BATCH_MAX_METRICS,
        max_delay: float = 1.0,
    ) -> None:
        if not 1 <= max_points <= LOG_BATCH_MAX_METRICS:
            raise ValueError(f"max_points must be between 1 and {LOG_BATCH_MAX_METRICS}")
        self._send = send
        self._max_points = max_points
        self._max_delay = max_delay
        self._pending: list[pb.Metric] = []
        self._in_flight = 0
        self._error: BaseException | None = None
        self._closed = False
        self._flushing = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="runstash-metric-batcher", daemon=True)
        self._thread.start()

    def log(self, key: str, value: float, *, step: int = 0, timestamp: int | None = None) -> None:
        point = pb.Metric(
            key=key,
            value=float(value),
            step=step,
            timestamp=timestamp if timestamp is not None else int(time.time() * 1000),
        )
        with self._cond:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            self._pending.append(point)
            if len(self._pending) >= self._max_points or len(self._pending) == 1:
                self._cond.notify_all()

    def flush(self) -> None:
        """Block until every point logged so far was sent; raise the first send failure, if any."""
        with self._cond:
            self._flushing += 1
            try:
                self._cond.notify_all()
                while (self._pending or self._in_flight) and self._error is None:
                    self._cond.wait()
                self._raise_pending_error()
            finally:
                self._flushing -= 1

    def close(self) -> None:
        try:
            self.flush()
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            self._thread.join()

    def __enter__(self) -> MetricBatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._cond.notify_all()
            raise error

    def _next_batch(self) -> list[pb.Metric] | None:
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if not self._pending:
                return None
            if len(self._pending) < self._max_points and not self._closed:
                # Give the loop a moment to fill the batch, but never longer than max_delay.
                self._cond.wait_for(
                    lambda: len(self._pending) >= self._max_points or self._closed or self._flushing > 0,
                    timeout=self._max_delay,
                )
            batch, self._pending = self._pending[: self._max_points], self._pending[self._max_points :]
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._send(batch)
            except BaseException as error:
                with self._cond:
                    # Keep the unsent points in front so a later flush can retry them in order.
                    self._pending[:0] = batch
                    self._error = error
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()
            with self._cond:
                # After a failure, wait for the caller to see it (flush/close) before retrying.
                while self._error is not None and not self._closed:
                    self._cond.wait()
                if self._error is not None:
                    return


# ------------------------------------------------------------------------------------------------
# batches of the ingest stream (runstash.ingest)


class Step:
    """One ``log_metrics`` call: several keys' values at one step."""

    __slots__ = ("keys", "run_id", "step", "timestamp", "values")

    def __init__(self, run_id: str, keys: list[str], values: list[float], step: int, timestamp: int) -> None:
        self.run_id, self.keys, self.values, self.step, self.timestamp = run_id, keys, values, step, timestamp


class Columns:
    """A batch's plain points column-wise, as ``MetricColumns`` carries them."""

    __slots__ = ("index", "key_index", "steps", "timestamps", "values")

    def __init__(self) -> None:
        self.index: dict[str, int] = {}  # the key table, in first-seen order
        self.key_index: list[int] = []
        self.values: list[float] = []
        self.timestamps: list[int] = []
        self.steps: list[int] = []

    def add_points(self, points: Sequence[tuple[str, str, float, int, int]]) -> None:
        """(run_id, key, value, step, timestamp) points, column by column in C."""
        _, keys, values, steps, timestamps = zip(*points, strict=True)
        index = self.index
        self.key_index += [index.setdefault(key, len(index)) for key in keys]
        self.values += values
        self.steps += steps
        self.timestamps += timestamps

    def add_step(self, item: Step) -> None:
        index = self.index
        self.key_index += [index.setdefault(key, len(index)) for key in item.keys]
        self.values += item.values
        self.steps += [item.step] * len(item.keys)
        self.timestamps += [item.timestamp] * len(item.keys)

    def write(self, message: ingest_pb2.IngestBatch) -> None:
        if self.values:
            columns = message.columns
            columns.keys.extend(self.index)
            columns.key_index.extend(self.key_index)
            columns.values.extend(self.values)
            columns.timestamps.extend(self.timestamps)
            columns.steps.extend(self.steps)


def take_points(queue: deque[Any], run_id: str, room: int) -> list[tuple[str, str, float, int, int]]:
    """Pop up to ``room`` point tuples of ``run_id`` off the head of ``queue`` (at least one: the
    head must be such a point)."""
    taken: list[tuple[str, str, float, int, int]] = []
    append, popleft = taken.append, queue.popleft
    while queue and len(taken) < room:
        head = queue[0]
        if type(head) is not tuple or head[0] != run_id:
            break
        append(popleft())
    return taken


def within_limits(points: int, params: int, tags: int, item: BatchItem) -> bool:
    """Whether ``item`` joins a batch holding so many metric points, params and tags."""
    return (
        points + params + tags + len(item.metrics) + len(item.params) + len(item.tags) <= MAX_METRICS
        and points + len(item.metrics) <= MAX_METRICS
        and params + len(item.params) <= MAX_PARAMS
        and tags + len(item.tags) <= MAX_TAGS
    )


def split_batch(
    metrics: Sequence[pb.Metric], params: Sequence[pb.Param], tags: Sequence[pb.RunTag]
) -> list[tuple[Sequence[pb.Metric], Sequence[pb.Param], Sequence[pb.RunTag]]]:
    """Parts of one call that each fit a batch: params first, then metrics, then tags."""
    parts: list[tuple[Sequence[pb.Metric], Sequence[pb.Param], Sequence[pb.RunTag]]] = []
    parts += [((), params[i : i + MAX_PARAMS], ()) for i in range(0, len(params), MAX_PARAMS)]
    parts += [(metrics[i : i + MAX_METRICS], (), ()) for i in range(0, len(metrics), MAX_METRICS)]
    parts += [((), (), tags[i : i + MAX_TAGS]) for i in range(0, len(tags), MAX_TAGS)]
    return parts or [((), (), ())]


def column_metrics(batch: ingest_pb2.IngestBatch) -> list[pb.Metric]:
    """Every metric point of ``batch`` as a Metric message: its metrics, then its columns."""
    c = batch.columns
    keys = [c.keys[i] for i in c.key_index]
    columns = zip(keys, c.values, c.timestamps, c.steps, strict=True)
    return [*batch.metrics, *(pb.Metric(key=k, value=v, timestamp=t, step=s) for k, v, t, s in columns)]
