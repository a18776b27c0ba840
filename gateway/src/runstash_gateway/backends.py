"""How the gateway reaches a service: in-process servicer objects or gRPC channels, one interface.

* :class:`InProcessBackend` calls sync servicer methods on a thread pool (the event loop never
  blocks) with a minimal servicer context; byte streams are pulled one message at a time, so memory
  stays bounded.
* :class:`RemoteBackend` speaks gRPC over ``grpc.aio`` channels to one or more replicas of the same
  services; unary calls and each stream are spread round-robin (a stream stays on one replica).

Both serve reflection through the same call (:meth:`Backend.reflect`) so route building is the same
code for both, and both surface failures as :class:`runstash_protos.errors.RunstashError`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
import grpc.aio
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection, reflection_pb2
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error
from runstash_protos.transport import aio_channel

log = logging.getLogger("runstash.gateway")

MessageFactory = Callable[[Descriptor], type[Message]]
Metadata = tuple[tuple[str, str], ...]

# Unpaged metric histories (a million points) arrive as one message; artifact chunks are ~1 MiB.
_GRPC_OPTIONS = (
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
)


@dataclass(frozen=True, slots=True)
class RpcMethod:
    """One RPC as the gateway calls it (classes come from the backend's message factory)."""

    service: str
    name: str
    request_class: type[Message]
    response_class: type[Message]
    client_streaming: bool
    server_streaming: bool

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


class Backend(Protocol):
    """One reachable set of gRPC services."""

    label: str

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def reflect(
        self, requests: Sequence[reflection_pb2.ServerReflectionRequest]
    ) -> list[reflection_pb2.ServerReflectionResponse]: ...

    def message_class(self, descriptor: Descriptor) -> type[Message]: ...

    async def unary(self, method: RpcMethod, request: Message, metadata: Metadata) -> Message: ...

    async def client_stream(
        self, method: RpcMethod, requests: AsyncIterator[Message], metadata: Metadata
    ) -> Message: ...

    def server_stream(
        self, method: RpcMethod, request: Message, metadata: Metadata
    ) -> AsyncIterator[Message]: ...


# ---------------------------------------------------------------- in-process


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
    """The parts of grpc.ServicerContext a servicer uses, for calls that never touch the network."""

    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata
        self._trailing: Metadata = ()
        self._code: grpc.StatusCode | None = None
        self._details: str | None = None

    def invocation_metadata(self) -> Metadata:
        return self._metadata

    def peer(self) -> str:
        return "in-process"

    def is_active(self) -> bool:
        return True

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
        raise _AbortedCall(code, details, self._trailing)

    def abort_with_status(self, status: Any) -> None:
        raise _AbortedCall(status.code, status.details, tuple(status.trailing_metadata or ()))

    def raise_if_failed(self) -> None:
        """A servicer may set a non-OK code and return instead of aborting."""
        if self._code is not None and self._code != grpc.StatusCode.OK:
            raise from_rpc_error(_AbortedCall(self._code, self._details or "", self._trailing))


def _domain_error(exc: BaseException) -> RunstashError | None:
    if isinstance(exc, RunstashError):
        return exc
    if isinstance(exc, grpc.RpcError):
        return from_rpc_error(exc)
    return None


_END = object()


class _PulledRequests(Iterator[Message]):
    """A sync iterator for a servicer thread that pulls each item from the event loop on demand."""

    def __init__(self, source: AsyncIterator[Message], loop: asyncio.AbstractEventLoop) -> None:
        self._source = source
        self._loop = loop

    def __next__(self) -> Message:
        future = asyncio.run_coroutine_threadsafe(self._next(), self._loop)
        item = future.result()
        if item is _END:
            raise StopIteration
        assert isinstance(item, Message)
        return item

    async def _next(self) -> object:
        try:
            return await anext(self._source)
        except StopAsyncIteration:
            return _END


class InProcessBackend:
    """Servicer objects in this process (``{"runstash.metadata.MetadataService": servicer}``).

    Their message classes come from the default descriptor pool (the generated modules the
    servicers import), so requests reach them as the exact types they were written for.
    ``max_threads`` bounds concurrent calls; a streamed transfer holds one thread throughout.
    """

    def __init__(
        self,
        servicers: Mapping[str, object],
        *,
        max_threads: int = 32,
        label: str = "in-process",
    ) -> None:
        self.label = label
        self._servicers = dict(servicers)
        self._reflection = reflection.ReflectionServicer([*self._servicers, reflection.SERVICE_NAME])
        self._max_threads = max_threads
        self._executor: ThreadPoolExecutor | None = None
        self._pool = descriptor_pool.Default()

    async def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._max_threads, thread_name_prefix="runstash-gw")

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

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
        servicer = self._servicers.get(method.service)
        handler = getattr(servicer, method.name, None) if servicer is not None else None
        if handler is None:
            raise RunstashError(ErrorCode.NOT_IMPLEMENTED, f"Method not implemented: {method.path}")
        return handler  # type: ignore[no-any-return]

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:
            await self.start()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except Exception as exc:
            error = _domain_error(exc)
            if error is None:
                raise
            raise error from None

    @staticmethod
    def _call(handler: Callable[..., Any], request: Any, context: InProcessContext) -> Any:
        try:
            response = handler(request, context)
        except Exception:
            # The generated base class sets UNIMPLEMENTED, then raises NotImplementedError.
            context.raise_if_failed()
            raise
        context.raise_if_failed()
        return response

    async def unary(self, method: RpcMethod, request: Message, metadata: Metadata) -> Message:
        response: Message = await self._run(
            self._call, self._handler(method), request, InProcessContext(metadata)
        )
        return response

    async def client_stream(
        self, method: RpcMethod, requests: AsyncIterator[Message], metadata: Metadata
    ) -> Message:
        pulled = _PulledRequests(requests, asyncio.get_running_loop())
        response: Message = await self._run(
            self._call, self._handler(method), pulled, InProcessContext(metadata)
        )
        return response

    async def server_stream(
        self, method: RpcMethod, request: Message, metadata: Metadata
    ) -> AsyncIterator[Message]:
        context = InProcessContext(metadata)
        responses: Iterator[Message] = iter(await self._run(self._handler(method), request, context))
        try:
            while True:
                item = await self._run(next, responses, _END)
                if item is _END:
                    context.raise_if_failed()
                    return
                yield item
        finally:
            close = getattr(responses, "close", None)
            if close is not None:
                await self._run(close)


# ---------------------------------------------------------------- remote


class RemoteBackend:
    """gRPC replicas of the same services (``["10.0.0.5:7001", "10.0.0.6:7001"]``), round-robin."""

    def __init__(self, targets: Sequence[str], *, label: str | None = None) -> None:
        if not targets:
            raise ValueError("RemoteBackend needs at least one host:port target")
        self.targets = tuple(targets)
        self.label = label or ",".join(self.targets)
        self._channels: list[grpc.aio.Channel] = []
        self._next = itertools.count()
        self._callables: dict[tuple[str, int], Any] = {}

    async def start(self) -> None:
        if not self._channels:
            self._channels = [
                aio_channel(t, options=_GRPC_OPTIONS) for t in self.targets
            ]  # TLS if configured

    async def close(self) -> None:
        channels, self._channels = self._channels, []
        self._callables.clear()
        for channel in channels:
            await channel.close()

    def _channel_index(self) -> int:
        """Round-robin, stepping over replicas whose channel is known to be down.

        Only the channel's own connectivity state is consulted (no retries of sent calls, which
        could repeat a non-idempotent write); if every replica looks down, the turn's own is used
        and the call fails as UNAVAILABLE (503, which clients retry).
        """
        count = len(self._channels)
        first = next(self._next) % count
        if count == 1:
            return first
        for step in range(count):
            index = (first + step) % count
            if self._channels[index].get_state(False) != grpc.ChannelConnectivity.TRANSIENT_FAILURE:
                return index
        return first

    async def reflect(
        self, requests: Sequence[reflection_pb2.ServerReflectionRequest]
    ) -> list[reflection_pb2.ServerReflectionResponse]:
        await self.start()
        channel = self._channels[0]
        call = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )(iter(requests), timeout=30)
        try:
            return [response async for response in call]
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    def message_class(self, descriptor: Descriptor) -> type[Message]:
        return message_factory.GetMessageClass(descriptor)

    def _callable(self, method: RpcMethod) -> Any:
        index = self._channel_index()
        key = (method.path, index)
        found = self._callables.get(key)
        if found is None:
            channel = self._channels[index]
            factory = {
                (False, False): channel.unary_unary,
                (True, False): channel.stream_unary,
                (False, True): channel.unary_stream,
                (True, True): channel.stream_stream,
            }[(method.client_streaming, method.server_streaming)]
            found = factory(
                method.path,
                request_serializer=method.request_class.SerializeToString,
                response_deserializer=method.response_class.FromString,
            )
            self._callables[key] = found
        return found

    async def unary(self, method: RpcMethod, request: Message, metadata: Metadata) -> Message:
        try:
            response: Message = await self._callable(method)(request, metadata=metadata or None)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return response

    async def client_stream(
        self, method: RpcMethod, requests: AsyncIterator[Message], metadata: Metadata
    ) -> Message:
        # grpc.aio cancels the call when the request iterator fails (the HTTP client went away
        # mid-upload) and surfaces that as CancelledError: keep the iterator's own exception.
        failures: list[Exception] = []

        async def guarded() -> AsyncIterator[Message]:
            try:
                async for item in requests:
                    yield item
            except Exception as exc:
                failures.append(exc)
                raise

        call = self._callable(method)(guarded(), metadata=metadata or None)
        try:
            response: Message = await call
        except asyncio.CancelledError:
            if failures:
                raise failures[0] from None
            raise
        except grpc.RpcError as exc:
            if failures:
                raise failures[0] from None
            raise from_rpc_error(exc) from None
        finally:
            if not call.done():
                call.cancel()
        return response

    async def server_stream(
        self, method: RpcMethod, request: Message, metadata: Metadata
    ) -> AsyncIterator[Message]:
        call = self._callable(method)(request, metadata=metadata or None)
        try:
            async for response in call:
                yield response
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        finally:
            call.cancel()


@dataclass(frozen=True)
class GatewayBackends:
    """Every backend the gateway fronts; a service offered by two backends goes to the first."""

    backends: tuple[Backend, ...]

    @classmethod
    def of(cls, *backends: Backend) -> GatewayBackends:
        return cls(tuple(backends))

    @classmethod
    def in_process(cls, servicers: Mapping[str, object], *, max_threads: int = 32) -> GatewayBackends:
        return cls((InProcessBackend(servicers, max_threads=max_threads),))

    @classmethod
    def remote(cls, *target_groups: Sequence[str]) -> GatewayBackends:
        """One RemoteBackend per group of replicas: ``remote(["m:7000"], ["a1:7001", "a2:7001"])``."""
        return cls(tuple(RemoteBackend(list(group)) for group in target_groups if group))
