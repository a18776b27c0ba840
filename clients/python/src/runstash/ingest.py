"""Asynchronous logging over the ingest stream: logging calls return at once, nothing is lost.

Points, params and tags queue in memory; one sender thread packs them into batches (at most the
log-batch limits) and writes them on a long-lived ``IngestService.Ingest`` stream. Points logged
with :meth:`AsyncLogger.log_metric` / :meth:`AsyncLogger.log_metrics` travel column-wise
(``MetricColumns``: packed arrays and a key table, no message per point). At most
``window`` batches are unacknowledged at a time (the flow control: a slow server slows the
sender, never the job). :meth:`AsyncLogger.flush` waits until everything logged so far was
acknowledged (or spooled) and raises the first rejection, so errors surface at flush or at the
end of the run, as mlflow's ``MLFLOW_ENABLE_ASYNC_LOGGING`` promises.

When the stream breaks, the unacknowledged batches are sent again on a new stream (the store
keeps a resent batch once: see ``ingest.proto``). When the server stays unreachable for longer
than ``offline_after`` seconds while data waits, the logger goes offline: batches are appended to
a spool file (:mod:`runstash.spool`) and the job keeps running. It probes the server meanwhile
and, once it answers, replays the spool itself; whatever is still spooled when the job ends is
replayed by ``runstash sync DIR``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

import grpc
from runstash_protos import ingest_pb2, ingest_pb2_grpc
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error

from runstash.batching import MAX_METRICS, Columns, Step, split_batch, take_points, within_limits
from runstash.connection import TRANSIENT, Endpoint, backoff_delays
from runstash.spool import SpoolWriter, read_spool

log = logging.getLogger("runstash.ingest")

_IDLE_WAIT = 0.02
# The job never cancels its own stream, so CANCELLED means the server went away mid-stream.
_STREAM_TRANSIENT = TRANSIENT | {grpc.StatusCode.CANCELLED}

# A metric point on the fast path: (run_id, key, value, step, timestamp in ms).
Point = tuple[str, str, float, int, int]


class _Waiter:
    """The future of one ``log_batch`` call, which may span several batches."""

    __slots__ = ("error", "future", "parts")

    def __init__(self, parts: int) -> None:
        self.future: Future[None] = Future()
        self.parts = parts
        self.error: BaseException | None = None

    def part_done(self, error: BaseException | None) -> None:
        self.error = self.error or error
        self.parts -= 1
        if self.parts == 0:
            if self.error is None:
                self.future.set_result(None)
            else:
                self.future.set_exception(self.error)


class _Item:
    """One ``log_batch`` call (or a part of it that fits one batch)."""

    __slots__ = ("metrics", "params", "run_id", "tags", "waiter")

    def __init__(
        self,
        run_id: str,
        metrics: Sequence[pb.Metric],
        params: Sequence[pb.Param],
        tags: Sequence[pb.RunTag],
        waiter: _Waiter,
    ) -> None:
        self.run_id, self.metrics, self.params, self.tags, self.waiter = run_id, metrics, params, tags, waiter


class _Batch:
    __slots__ = ("message", "waiters")

    def __init__(self, message: ingest_pb2.IngestBatch, waiters: list[_Waiter]) -> None:
        self.message = message
        self.waiters = waiters

    def settle(self, error: BaseException | None) -> None:
        for waiter in self.waiters:
            waiter.part_done(error)


class AsyncLogger:
    """Background logging for one job; ``log_metric`` costs an append, ``flush`` waits."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        spool_dir: Path | str = "runstash-spool",
        offline_after: float = 10.0,
        window: int = 16,
        job_id: str | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._channel = endpoint.channel(endpoint.metadata_target)
        self._stub = ingest_pb2_grpc.IngestServiceStub(self._channel)
        self._spool_dir = Path(spool_dir)
        self._offline_after = offline_after
        self._window = window
        self._job_id = job_id or uuid.uuid4().hex
        self._queue: deque[Point | Step | _Item] = deque()
        self._resend: deque[_Batch] = deque()
        self._unacked: dict[int, _Batch] = {}
        self._numbered = 0  # batches built so far: the idempotency key's counter
        self._sequence = 0  # per stream, echoed by acks
        self._stream = 0  # id of the current stream; a request generator of an older one stops
        self._errors: list[BaseException] = []
        self._offline = False
        self._episode = 0
        self._replaying: dict[Path, set[str]] = {}
        self._spooled_paths: set[Path] = set()
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="runstash-ingest", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the job's side

    def log_metric(
        self, run_id: str, key: str, value: float, step: int = 0, timestamp: int | None = None
    ) -> None:
        """Queue one point and return at once (a deque append: no lock, no wake-up)."""
        ts = int(time.time() * 1000) if timestamp is None else int(timestamp)
        self._queue.append((run_id, key, float(value), int(step), ts))

    def log_metrics(
        self, run_id: str, metrics: Mapping[str, float], step: int = 0, timestamp: int | None = None
    ) -> None:
        """Queue several keys' values at one step (mlflow's ``log_metrics``) and return at once."""
        ts = int(time.time() * 1000) if timestamp is None else int(timestamp)
        keys, values = list(metrics), [float(value) for value in metrics.values()]
        for i in range(0, len(keys), MAX_METRICS):  # one item never exceeds a batch
            self._queue.append(
                Step(run_id, keys[i : i + MAX_METRICS], values[i : i + MAX_METRICS], int(step), ts)
            )

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[pb.Metric] = (),
        params: Sequence[pb.Param] = (),
        tags: Sequence[pb.RunTag] = (),
    ) -> Future[None]:
        """Queue a batch of any size; the future is done once all of it is stored (or spooled)."""
        parts = split_batch(metrics, params, tags)
        waiter = _Waiter(len(parts))
        for m, p, t in parts:
            self._queue.append(_Item(run_id, m, p, t, waiter))
        return waiter.future

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything queued so far is stored or spooled; raise the first error since
        the last flush (a ``RunstashError`` with the server's error code)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._queue or self._resend or self._unacked:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("async logging did not drain in time")
                self._cond.wait(_IDLE_WAIT if left is None else min(left, _IDLE_WAIT))
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]

    def close(self) -> None:
        """Flush, end the stream and stop the sender; report what stays spooled for `runstash sync`."""
        try:
            self.flush()
        finally:
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            self._thread.join()
            self._channel.close()
            for path in sorted(p for p in self._spooled_paths if p.exists()):
                log.warning(
                    "runstash: server unreachable; data spooled in %s, replay with `runstash sync %s`",
                    path,
                    path.parent,
                )

    @property
    def backlog(self) -> int:
        """Items queued, waiting to be resent or unacknowledged (to pace a producer that outruns
        the server; ``log_metric`` itself never blocks)."""
        return len(self._queue) + len(self._resend) + len(self._unacked)

    @property
    def offline(self) -> bool:
        return self._offline

    # ------------------------------------------------------------------ the sender

    def _run(self) -> None:
        delays = None
        failing_since: float | None = None
        while not (self._closing and self._idle()):
            if self._offline:
                self._offline_step()
                continue
            self._stream += 1
            try:
                metadata = self._endpoint.metadata()
                for ack in self._stub.Ingest(self._requests(self._stream), metadata=metadata):
                    self._on_ack(ack)
                    failing_since, delays = None, None
            except grpc.RpcError as error:
                self._requeue_unacked()
                if error.code() not in _STREAM_TRANSIENT:
                    self._fail_all(from_rpc_error(error))
                    continue
                now = time.monotonic()
                failing_since = failing_since or now
                if self._has_data() and now - failing_since >= self._offline_after:
                    log.warning(
                        "runstash: server unreachable for %.0f s; spooling to %s",
                        now - failing_since,
                        self._spool_dir,
                    )
                    self._offline = True
                    continue
                delays = delays or backoff_delays(float("inf"), cap=2.0)
                self._sleep(next(delays))

    def _idle(self) -> bool:
        with self._cond:
            return not (self._queue or self._resend or self._unacked)

    def _has_data(self) -> bool:
        return bool(self._queue or self._resend or self._unacked)

    def _sleep(self, seconds: float) -> None:
        with self._cond:
            self._cond.wait(seconds)

    def _requests(self, stream: int) -> Iterator[ingest_pb2.IngestBatch]:
        self._sequence = 0
        while True:
            with self._cond:
                while True:
                    if stream != self._stream:
                        return
                    if len(self._unacked) < self._window and (self._resend or self._queue):
                        break
                    if self._closing and not (self._queue or self._resend or self._unacked):
                        return
                    self._cond.wait(_IDLE_WAIT)
                batch = self._resend.popleft() if self._resend else self._build()
                self._sequence += 1
                batch.message.sequence = self._sequence
                self._unacked[self._sequence] = batch
            yield batch.message

    def _build(self) -> _Batch:
        """The next batch from the queue: one run, within the log-batch limits."""
        message = ingest_pb2.IngestBatch()
        columns = Columns()
        waiters: list[_Waiter] = []
        queue = self._queue
        run_id = None
        while queue:
            head = queue[0]
            size = len(columns.values) + len(message.metrics)
            if type(head) is tuple:
                if (run_id is not None and head[0] != run_id) or size >= MAX_METRICS:
                    break
                run_id = head[0]
                columns.add_points(take_points(queue, run_id, MAX_METRICS - size))
                continue
            if type(head) is Step:
                if (run_id is not None and head.run_id != run_id) or size + len(head.keys) > MAX_METRICS:
                    break
                run_id = head.run_id
                columns.add_step(head)
            else:
                assert isinstance(head, _Item)
                fits = within_limits(size, len(message.params), len(message.tags), head)
                if run_id is not None and (head.run_id != run_id or not fits):
                    break
                run_id = head.run_id
                message.metrics.extend(head.metrics)
                message.params.extend(head.params)
                message.tags.extend(head.tags)
                waiters.append(head.waiter)
            queue.popleft()
        columns.write(message)
        self._numbered += 1
        message.run_id = run_id or ""
        message.idempotency_key = f"{self._job_id}-{self._numbered}"
        return _Batch(message, waiters)

    def _on_ack(self, ack: ingest_pb2.IngestAck) -> None:
        with self._cond:
            batch = self._unacked.pop(ack.sequence, None)
            if batch is None:
                return
            error = None
            if not ack.stored:
                error = RunstashError(_error_code(ack.error_code), ack.message)
                self._errors.append(error)
            self._note_replayed(batch)
            self._cond.notify_all()
        batch.settle(error)

    def _requeue_unacked(self) -> None:
        """Put the batches of a broken stream back in front, in their order."""
        with self._cond:
            self._stream += 1  # stops the old request generator
            pending = [self._unacked[k] for k in sorted(self._unacked)]
            self._unacked.clear()
            self._resend.extendleft(reversed(pending))
            self._cond.notify_all()

    def _fail_all(self, error: RunstashError) -> None:
        with self._cond:
            failed = list(self._resend)
            self._resend.clear()
            self._errors.append(error)
            self._cond.notify_all()
        for batch in failed:
            batch.settle(error)

    # ------------------------------------------------------------------ offline

    def _offline_step(self) -> None:
        """Spool what waits, then probe the server; back online, queue the spool for replay."""
        writer = SpoolWriter(self._spool_dir, f"{self._job_id}-{self._episode}")
        self._spooled_paths.add(writer.path)
        try:
            while self._offline:
                self._spool_waiting(writer)
                if self._closing and self._idle():
                    break
                if self._server_answers():
                    self._offline = False
        finally:
            writer.close()
            self._episode += 1
        if writer.batches and not self._closing:
            self._replay(writer.path)

    def _spool_waiting(self, writer: SpoolWriter) -> None:
        with self._cond:
            batches = list(self._resend)
            self._resend.clear()
            while self._queue:
                batches.append(self._build())
        for batch in batches:
            writer.append(batch.message)
            batch.settle(None)
        with self._cond:
            self._cond.notify_all()

    def _server_answers(self) -> bool:
        try:
            grpc.channel_ready_future(self._channel).result(timeout=1.0)
        except grpc.FutureTimeoutError:
            return False
        return True

    def _replay(self, path: Path) -> None:
        batches = [_Batch(message, []) for message in read_spool(path)]
        log.info("runstash: server back; replaying %d spooled batches from %s", len(batches), path)
        with self._cond:
            self._replaying[path] = {b.message.idempotency_key for b in batches}
            self._resend.extend(batches)

    def _note_replayed(self, batch: _Batch) -> None:
        for path, keys in list(self._replaying.items()):
            keys.discard(batch.message.idempotency_key)
            if not keys:
                del self._replaying[path]
                path.unlink(missing_ok=True)


def _error_code(name: str) -> ErrorCode:
    try:
        return ErrorCode(name)
    except ValueError:
        return ErrorCode.INTERNAL_ERROR
