"""What the gateway needs from a reachable set of gRPC services, whatever carries the calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection_pb2

Metadata = tuple[tuple[str, str], ...]
NO_METADATA: Metadata = ()

# Unpaged metric histories (a million points) arrive as one message; artifact chunks are ~1 MiB.
GRPC_CHANNEL_OPTIONS = (
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
    """One reachable set of gRPC services. Every failure surfaces as a RunstashError."""

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
