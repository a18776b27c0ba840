"""The ingest stream: a job's batches of metrics, params and tags over one bidirectional call.

Each batch is validated exactly as ``LogBatch`` validates it and stored through the store's bulk
log-batch path, so the stream adds no write path of its own. What it adds is read-ahead: a reader
thread takes batches off the wire while the previous group is being written, and consecutive
metrics-only batches of one run that are already waiting are written in one transaction (one
commit instead of one per batch: the commit is a good share of a 1000-point batch's cost). If such
a group fails, nothing of it was committed and its batches are written again one by one, so an
error stays with the batch that caused it.

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

log = logging.getLogger("runstash.metadata.ingest")

SERVICE_NAME: str = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name
# Read-ahead bound per stream (the client's window is smaller; this only caps a misbehaving one).
INBOX_BATCHES = 64
# A group's size bound: points in one transaction.
GROUP_POINTS = 8000

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
            points = len(first.metrics)
            while _metrics_only(first):
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _END or not _metrics_only(nxt) or nxt.run_id != first.run_id:
                    held = nxt
                    break
                if points + len(nxt.metrics) > GROUP_POINTS:
                    held = nxt
                    break
                group.append(nxt)
                points += len(nxt.metrics)
            yield group


def _metrics_only(batch: ingest_pb2.IngestBatch) -> bool:
    return not batch.params and not batch.tags


def _log_batch(batch: ingest_pb2.IngestBatch) -> pb.LogBatch:
    return pb.LogBatch(run_id=batch.run_id, metrics=batch.metrics, params=batch.params, tags=batch.tags)


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
            if len(group) > 1 and group[0].run_id in admitted and self._store_group(group):
                yield from (_ack(batch, None) for batch in group)
                continue
            for batch in group:
                error = self._store_one(batch, context)
                if error is None:
                    admitted.add(batch.run_id)
                yield _ack(batch, error)

    def _store_one(self, batch: ingest_pb2.IngestBatch, context: Any) -> RunstashError | None:
        try:
            self._metadata.LogBatch(_log_batch(batch), context)
        except RunstashError as error:
            log.info("ingest batch %s rejected: %s", batch.idempotency_key, error.message)
            return error
        return None

    def _store_group(self, group: list[ingest_pb2.IngestBatch]) -> bool:
        """Metrics-only batches of one run in one transaction; False if any of it failed."""
        try:
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
