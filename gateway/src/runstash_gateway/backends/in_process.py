"""Servicer objects of this process, called without a network hop.

Sync servicer methods run on thread pools (the event loop never blocks) with a minimal servicer
context; each method is wrapped once in :func:`runstash_protos.rpc.guard`, the same error boundary
the gRPC servers put around it, so an unexpected error answers as it does over the wire. Unary
calls and byte streams use separate pools: a slow upload holds a thread for its whole transfer,
and must never keep a metadata call waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection, reflection_pb2
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error
from runstash_protos.rpc import guard

from .base import Metadata, RpcMethod


class _AbortedCall(grpc.RpcError):
    """Raised by the in-process context's abort(); shaped like a grpc.RpcError for from_rpc_error."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: Metadata) -> None:
        super().__init__(details)
        self._code = code
        self._details = details
        self._trailing = trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Any:
        return self._trailing


class InProcessContext:
    """The parts of grpc.ServicerContext a servicer uses, for calls that never touch the network.

    ``invocation_metadata()`` carries exactly the pairs a remote call would send (the gateway's
    ``x-runstash-present-empty`` among them), never None.
    """

    def __init__(self, metadata: Metadata) -> None:
        self._metadata = tuple(metadata)
        self._trailing: Metadata = ()
        self._code: grpc.StatusCode | None = None
        self._details: str | None = None
        self._active = True

    def invocation_metadata(self) -> Metadata:
        return self._metadata

    def peer(self) -> str:
        return "in-process"

    def is_active(self) -> bool:
        return self._active

    def cancel(self) -> None:
        """The caller went away (its request stream failed): as grpc marks a cancelled call."""
        self._active = False

    def time_remaining(self) -> float | None:
        return None

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False

    def send_initial_metadata(self, metadata: Metadata) -> None:
        return None

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        self._trailing = tuple(metadata)

    def trailing_metadata(self) -> Metadata:
        return self._trailing

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def set_details(self, details: str) -> None:
        self._details = details

    def details(self) -> str | None:
        return self._details

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details
        raise _AbortedCall(code, details, self._trailing)

    def abort_with_status(self, status: Any) -> None:
        self._code, self._details = status.code, status.details
        raise _AbortedCall(status.code, status.details, tuple(status.trailing_metadata or ()))

    def raise_if_failed(self) -> None:
        """A servicer may set a non-OK code and return instead of aborting."""
        if self._code is not None and self._code != grpc.StatusCode.OK:
            raise from_rpc_error(_AbortedCall(self._code, self._details or "", self._trailing))


_END = object()


class _PulledRequests(Iterator[Message]):
    """A sync iterator for a servicer thread that pulls each item from the event loop on demand."""

    def __init__(
        self, source: AsyncIterator[Message], loop: asyncio.AbstractEventLoop, context: InProcessContext
    ) -> None:
        self._source = source
        self._loop = loop
        self._context = context

    def __next__(self) -> Message:
        future = asyncio.run_coroutine_threadsafe(self._next(), self._loop)
        try:
            item = future.result()
        except BaseException:
            self._context.cancel()
            raise
        if item is _END:
            raise StopIteration
        assert isinstance(item, Message)
        return item

    async def _next(self) -> object:
        try:
            return await anext(self._source)
        except StopAsyncIteration:
            return _END


def _call(handler: Callable[..., Any], request: Any, context: InProcessContext) -> Any:
    try:
        response = handler(request, context)
    except grpc.RpcError as exc:
        raise from_rpc_error(exc) from None
    except Exception:
        # The generated base class sets UNIMPLEMENTED, then raises NotImplementedError.
        context.raise_if_failed()
        raise
    context.raise_if_failed()
    return response


def _next_item(responses: Iterator[Message], context: InProcessContext) -> object:
    try:
        return next(responses, _END)
    except grpc.RpcError as exc:
        raise from_rpc_error(exc) from None


class InProcessBackend:
    """Servicer objects in this process (``{"runstash.metadata.MetadataService": servicer}``).

    Their message classes come from the default descriptor pool (the generated modules the
    servicers import), so requests reach them as the exact types they were written for.
    ``max_threads`` bounds concurrent unary calls, ``max_stream_threads`` concurrent byte streams.
    ``on_close`` releases what the servicers hold (their database connections) when the gateway
    shuts down: the backend owns them for the life of the server.
    """

    def __init__(
        self,
        servicers: Mapping[str, object],
        *,
        max_threads: int = 32,
        max_stream_threads: int = 32,
        label: str = "in-process",
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.label = label
        self._on_close = on_close
        self._servicers = dict(servicers)
        self._reflection = reflection.ReflectionServicer([*self._servicers, reflection.SERVICE_NAME])
        self._sizes = (max_threads, max_stream_threads)
        self._unary_pool: ThreadPoolExecutor | None = None
        self._stream_pool: ThreadPoolExecutor | None = None
        self._pool = descriptor_pool.Default()
        self._guarded: dict[str, Callable[..., Any]] = {}

    async def start(self) -> None:
        if self._unary_pool is None:
            self._unary_pool = ThreadPoolExecutor(self._sizes[0], thread_name_prefix="runstash-gw")
            self._stream_pool = ThreadPoolExecutor(self._sizes[1], thread_name_prefix="runstash-gw-stream")

    async def close(self) -> None:
        for pool in (self._unary_pool, self._stream_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._unary_pool = self._stream_pool = None
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    async def reflect(
        self, requests: Sequence[reflection_pb2.ServerReflectionRequest]
    ) -> list[reflection_pb2.ServerReflectionResponse]:
        context = InProcessContext(())
        return list(self._reflection.ServerReflectionInfo(iter(requests), context))

    def message_class(self, descriptor: Descriptor) -> type[Message]:
        try:
            own = self._pool.FindMessageTypeByName(descriptor.full_name)
        except KeyError:
            own = descriptor
        return message_factory.GetMessageClass(own)

    def _handler(self, method: RpcMethod) -> Callable[..., Any]:
        found = self._guarded.get(method.path)
        if found is not None:
            return found
        servicer = self._servicers.get(method.service)
        behavior = getattr(servicer, method.name, None) if servicer is not None else None
        if behavior is None:
            raise RunstashError(ErrorCode.NOT_IMPLEMENTED, f"Method not implemented: {method.path}")
        found = self._guarded[method.path] = guard(behavior, server_streaming=method.server_streaming)
        return found

    async def _run(self, streaming: bool, function: Callable[..., Any], *args: Any) -> Any:
        if self._unary_pool is None:
            await self.start()
        pool = self._stream_pool if streaming else self._unary_pool
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)

    async def unary(self, method: RpcMethod, request: Message, metadata: Metadata) -> Message:
        context = InProcessContext(metadata)
        response: Message = await self._run(False, _call, self._handler(method), request, context)
        return response

    async def client_stream(
        self, method: RpcMethod, requests: AsyncIterator[Message], metadata: Metadata
    ) -> Message:
        context = InProcessContext(metadata)
        pulled = _PulledRequests(requests, asyncio.get_running_loop(), context)
        response: Message = await self._run(True, _call, self._handler(method), pulled, context)
        return response

    async def server_stream(
        self, method: RpcMethod, request: Message, metadata: Metadata
    ) -> AsyncIterator[Message]:
        """The servicer's messages, the next one produced on a stream thread while this one is
        being sent (a byte stream's reads overlap its socket writes). A thread is held only while
        a message is produced, never while a slow client reads."""
        context = InProcessContext(metadata)
        responses: Iterator[Message] = iter(
            await self._run(True, _call, self._handler(method), request, context)
        )
        pending: asyncio.Future[object] | None = None
        try:
            pending = asyncio.ensure_future(self._run(True, _next_item, responses, context))
            while True:
                # Shielded: a cancelled request must not abandon a thread still inside the
                # servicer's generator (it is waited for below, then the generator is closed).
                item = await asyncio.shield(pending)
                if item is _END:
                    context.raise_if_failed()
                    return
                assert isinstance(item, Message)
                pending = asyncio.ensure_future(self._run(True, _next_item, responses, context))
                yield item
        finally:
            if pending is not None and not pending.done():
                # The stream ended early (client gone): a generator cannot be closed while a
                # thread runs it, so let the message being produced finish first.
                await asyncio.wait({pending})
            if pending is not None and not pending.cancelled():
                pending.exception()  # retrieved: the stream's failure is already on its way
            close = getattr(responses, "close", None)
            if close is not None:
                await self._run(True, close)
