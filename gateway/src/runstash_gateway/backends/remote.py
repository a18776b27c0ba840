"""gRPC replicas of the same services over ``grpc.aio`` channels, round-robin.

Unary calls and each stream are spread over the replicas (a stream stays on one). The servers run
:func:`runstash_protos.rpc.service_server`, whose interceptor is the error boundary; here a failed
call only turns back into the RunstashError it carried.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
import grpc.aio
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection_pb2
from runstash_protos.errors import from_rpc_error

from .base import GRPC_CHANNEL_OPTIONS, Metadata, RpcMethod


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
                grpc.aio.insecure_channel(t, options=GRPC_CHANNEL_OPTIONS) for t in self.targets
            ]

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
