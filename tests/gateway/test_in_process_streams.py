"""Server streams of the in-process backend: the next message is produced while the current one is
sent, yet every message arrives once and in order, a failure mid-stream surfaces as the servicer's
error, and a stream dropped early (client gone) closes the servicer's generator after the message
being produced is done, never while a thread is still inside it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from runstash_gateway import InProcessBackend
from runstash_gateway.backends import RpcMethod
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

STREAM = RpcMethod("svc", "Stream", pb.LogMetric, pb.LogMetric, False, True)


class Numbers:
    """Streams ``count`` messages (step = index); fails at ``fail_at``; records its close."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.produced: list[int] = []
        self.closed = threading.Event()
        self.inside = threading.Lock()  # held while a thread runs the generator

    def Stream(self, request: Any, context: Any) -> Iterator[pb.LogMetric]:
        try:
            for index in range(self.count):
                with self.inside:
                    if index == self.fail_at:
                        raise RunstashError(ErrorCode.TEMPORARILY_UNAVAILABLE, "store went away")
                    self.produced.append(index)
                yield pb.LogMetric(step=index)
        finally:
            assert self.inside.acquire(blocking=False), "closed while a thread was inside"
            self.inside.release()
            self.closed.set()


def run_stream(servicer: Numbers, take: int | None = None) -> list[int]:
    backend = InProcessBackend({"svc": servicer}, max_stream_threads=2)

    async def main() -> list[int]:
        await backend.start()
        got: list[int] = []
        stream = backend.server_stream(STREAM, pb.LogMetric(), ())
        try:
            async for message in stream:
                assert isinstance(message, pb.LogMetric)
                got.append(message.step)
                await asyncio.sleep(0)  # the send: the next message is produced meanwhile
                if take is not None and len(got) == take:
                    break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            await backend.close()
        return got

    return asyncio.run(main())


def test_every_message_once_and_in_order() -> None:
    servicer = Numbers(200)
    assert run_stream(servicer) == list(range(200))
    assert servicer.closed.is_set()


def test_a_failure_mid_stream_is_the_servicers_error_after_the_messages_before_it() -> None:
    servicer = Numbers(50, fail_at=17)
    with pytest.raises(RunstashError) as failure:
        run_stream(servicer)
    assert failure.value.code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert servicer.produced == list(range(17))


def test_a_stream_dropped_early_closes_the_generator_and_produces_at_most_one_ahead() -> None:
    servicer = Numbers(1000)
    assert run_stream(servicer, take=5) == list(range(5))
    assert servicer.closed.wait(5)
    assert len(servicer.produced) <= 6
