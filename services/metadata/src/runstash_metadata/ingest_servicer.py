"""The ingest stream: a job's batches of metrics, params and tags over one bidirectional call.

Each batch is validated exactly as ``LogBatch`` validates it. What the stream adds is read-ahead:
a reader thread takes batches off the wire (gRPC decodes them there, off the writing thread)
while the previous group is being written, and consecutive metrics-only batches of one run that
are already waiting are written in one transaction (one commit instead of one per batch).

Plain points travel column-wise (``MetricColumns``: packed arrays, each key once). A group of
such batches becomes the store's column-wise points without a Python object per point and goes in
by the bulk-load path (``stream_points``: COPY on PostgreSQL); batches of Metric messages go
through the log-batch path. If a group fails, nothing of it was committed and its batches are
written again one by one through the (permission-guarded) LogBatch, so an error stays with the
batch that caused it.

Every batch is answered with an acknowledgement, in order. A rejected batch is acknowledged with
its error and changes nothing; the stream goes on with the next one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any, cast

from runstash_protos import ingest_pb2, ingest_pb2_grpc
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError
from runstash_protos.rpc import Registration

from runstash_metadata import validation as v
from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.store.points import Points
from runstash_metadata.validation_common import invalid
from runstash_metadata.validation_runs import MAX_METRICS_PER_BATCH

log = logging.getLogger("runstash.metadata.ingest")

SERVICE_NAME: str = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name
# Read-ahead bound per stream (the client's window is smaller; this only caps a misbehaving one).
INBOX_BATCHES = 64
# A group's size bound: points in one transaction.
GROUP_POINTS = 16000

_END = object()


class _Inbox:
    """Batches read off the stream by a thread of their own, so reading overlaps writing."""

    def __init__(self, requests: Iterator[ingest_pb2.IngestBatch]) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=INBOX_BATCHES)
        self._thread = threading.Thread(target=self._read, args=(requests,), daemon=True, name="ingest-read")
        self._thread.start()

    def _read(self, requests: Iterator[ingest_pb2.IngestBatch]) -> None:
        try:
            for batch in requests:
                self._queue.put(batch)
        except Exception as error:  # the client went away: end the handler's loop
            log.debug("ingest stream ended: %s", error)
        finally:
            self._queue.put(_END)

    def groups(self) -> Iterator[list[ingest_pb2.IngestBatch]]:
        """One batch (blocking), plus the waiting metrics-only batches of the same run that fit."""
        held: Any = None
        while True:
            first = held if held is not None else self._queue.get()
            held = None
            if first is _END:
                return
            group = [first]
            kind, points = _kind(first), _points(first)
            while kind is not None:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _END or _kind(nxt) != kind or nxt.run_id != first.run_id:
                    held = nxt
                    break
                if points + _points(nxt) > GROUP_POINTS:
                    held = nxt
                    break
                group.append(nxt)
                points += _points(nxt)
            yield group


def _kind(batch: ingest_pb2.IngestBatch) -> str | None:
    """What batches group with: metrics-only ones, as messages or as columns; None: alone."""
    if batch.params or batch.tags or (batch.metrics and batch.HasField("columns")):
        return None
    return "columns" if batch.HasField("columns") else "metrics"


def _points(batch: ingest_pb2.IngestBatch) -> int:
    return len(batch.metrics) + len(batch.columns.values)


def _log_batch(batch: ingest_pb2.IngestBatch) -> pb.LogBatch:
    """The batch as a LogBatch request (its columns as Metric messages after its own metrics)."""
    request = pb.LogBatch(run_id=batch.run_id, metrics=batch.metrics, params=batch.params, tags=batch.tags)
    if batch.HasField("columns"):
        c = batch.columns
        keys = [c.keys[i] for i in c.key_index]
        request.metrics.extend(
            pb.Metric(key=key, value=value, timestamp=ts, step=step)
            for key, value, ts, step in zip(keys, c.values, c.timestamps, c.steps, strict=True)
        )
    return request


def _check_columns(batch: ingest_pb2.IngestBatch) -> None:
    """The columns are well formed: equally long, key indexes in the key table. Raised as
    INVALID_PARAMETER_VALUE before anything reads them as points."""
    c = batch.columns
    n = len(c.values)
    if not len(c.key_index) == len(c.timestamps) == len(c.steps) == n:
        raise invalid("Invalid value for parameter 'columns' supplied: arrays of different lengths.")
    if n and max(c.key_index) >= len(c.keys):
        raise invalid(
            "Invalid value for parameter 'columns.key_index' supplied: not an index of columns.keys."
        )


def _check_column_points(batch: ingest_pb2.IngestBatch) -> None:
    """LogBatch's rules for the points of well-formed columns: each key once, the timestamps,
    the batch limit (the grouped path; single batches go through LogBatch itself)."""
    c = batch.columns
    for i, key in enumerate(c.keys):
        v.check_metric(key, 0.0, 0, f"columns.keys[{i}]")
    if c.timestamps and min(c.timestamps) < 0:
        i = next(i for i, ts in enumerate(c.timestamps) if ts < 0)
        v.check_metric(c.keys[c.key_index[i]], c.values[i], c.timestamps[i], f"columns[{i}]")
    count = _points(batch)
    if count > MAX_METRICS_PER_BATCH:
        raise invalid(
            f"A batch logging request can contain at most {MAX_METRICS_PER_BATCH} metrics. Got {count}"
            " metrics. Please split up metrics across multiple requests and try again."
        )


def _column_points(group: list[ingest_pb2.IngestBatch]) -> Points:
    """The group's points column-wise, each column one list (packed arrays copy out in C)."""
    keys: list[str] = []
    values: list[float] = []
    timestamps: list[int] = []
    steps: list[int] = []
    for batch in group:
        c = batch.columns
        table = list(c.keys)
        keys += [table[i] for i in c.key_index]
        values += c.values
        timestamps += c.timestamps
        steps += c.steps
    return Points.of_columns(group[0].run_id, keys, values, timestamps, steps)


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, metadata: MetadataServicer) -> None:
        # Given the permission-guarded servicer when auth is on (its other attributes pass through).
        self._metadata = metadata

    def Ingest(
        self, request_iterator: Iterator[ingest_pb2.IngestBatch], context: Any
    ) -> Iterator[ingest_pb2.IngestAck]:
        # Runs whose batches already passed the (guarded) LogBatch on this stream: only their
        # batches may take the grouped path, which skips the per-call permission check.
        admitted: set[str] = set()
        for group in _Inbox(request_iterator).groups():
            # A single batch of Metric messages costs the same either way; columns are worth it.
            grouped = len(group) > 1 or _kind(group[0]) == "columns"
            if grouped and group[0].run_id in admitted and self._store_group(group):
                yield from (_ack(batch, None) for batch in group)
                continue
            for batch in group:
                error = self._store_one(batch, context)
                if error is None:
                    admitted.add(batch.run_id)
                yield _ack(batch, error)

    def _store_one(self, batch: ingest_pb2.IngestBatch, context: Any) -> RunstashError | None:
        try:
            if batch.HasField("columns"):
                _check_columns(batch)
            self._metadata.LogBatch(_log_batch(batch), context)
        except RunstashError as error:
            log.info("ingest batch %s rejected: %s", batch.idempotency_key, error.message)
            return error
        return None

    def _store_group(self, group: list[ingest_pb2.IngestBatch]) -> bool:
        """Metrics-only batches of one run in one transaction; False if any of it failed."""
        try:
            if _kind(group[0]) == "columns":
                for batch in group:
                    _check_columns(batch)
                    _check_column_points(batch)
                self._metadata.log_points(group[0].run_id, _column_points(group))
                return True
            for batch in group:
                # IngestBatch has LogBatch's fields (names, proto2 presence): checked as is, no
                # copy of its 1000 metrics into a LogBatch.
                v.check_log_batch(cast(pb.LogBatch, batch), self._metadata.settings.validation)
            metrics = [metric for batch in group for metric in batch.metrics]
            self._metadata.log_metrics(group[0].run_id, metrics)
        except RunstashError:
            return False
        return True


def _ack(batch: ingest_pb2.IngestBatch, error: RunstashError | None) -> ingest_pb2.IngestAck:
    ack = ingest_pb2.IngestAck(
        sequence=batch.sequence, idempotency_key=batch.idempotency_key, stored=error is None
    )
    if error is not None:
        ack.error_code = error.code.value
        ack.message = error.message
    return ack


def add_to_server(servicer: IngestServicer) -> Registration:
    """The registration :func:`runstash_protos.rpc.service_server` takes for this service."""
    return SERVICE_NAME, lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(servicer, server)
