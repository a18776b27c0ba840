"""Reading request bodies: bounded in size and in time.

Every wait for the next piece of a body is bounded (``body_timeout_s``): a client that sends its
headers and then nothing (or a trickle) gets 408 instead of holding a server thread forever.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

from .asgi import Receive, Scope


class ClientDisconnected(Exception):
    """The HTTP client went away while we were reading its body."""


class BodyTimeout(ClientDisconnected):
    """The client stopped sending its body; the gateway answers 408 and drops the request."""


class PayloadTooLarge(Exception):
    pass


async def _next_piece(receive: Receive, timeout_s: float) -> tuple[bytes, bool]:
    """One body message: (bytes, more to come)."""
    try:
        async with asyncio.timeout(timeout_s):
            message = await receive()
    except TimeoutError:
        raise BodyTimeout(f"no request body received for {timeout_s:g} s") from None
    if message["type"] == "http.disconnect":
        raise ClientDisconnected
    return message.get("body", b""), message.get("more_body", False)


async def read_body(receive: Receive, content_length: bytes | None, limit: int, timeout_s: float) -> bytes:
    """A whole (JSON) body, refused above ``limit`` bytes before or while reading it."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            from runstash_protos.errors import invalid_parameter

            raise invalid_parameter("Invalid Content-Length header.") from None
        if declared > limit:
            raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        chunk, more = await _next_piece(receive, timeout_s)
        if chunk:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge
            chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class BodyChunks:
    """The raw request body re-cut into ``size``-byte pieces (memory stays bounded).

    The server's socket reads (~64 KiB each) are kept as they came and joined once per piece: one
    copy per byte (none when a read already is a whole piece), where growing a bytearray and
    slicing it took three.

    :meth:`first` may be awaited before the transfer is handed to a service, so a client that
    never sends a byte holds no service resources at all.
    """

    def __init__(self, receive: Receive, size: int, timeout_s: float) -> None:
        self._receive = receive
        self._size = max(1, size)
        self._timeout_s = timeout_s
        self._held: deque[bytes] = deque()
        self._held_bytes = 0
        self._offset = 0  # bytes of held[0] already handed out
        self._more = True
        self._pending: bytes | None = None

    async def first(self) -> bytes | None:
        """The first piece (None for an empty body); it is yielded again by iteration."""
        self._pending = await self._cut()
        return self._pending

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            yield pending
        while True:
            piece = await self._cut()
            if piece is None:
                return
            yield piece

    async def _cut(self) -> bytes | None:
        held = self._held
        while self._more and self._held_bytes < self._size:
            chunk, self._more = await _next_piece(self._receive, self._timeout_s)
            if chunk:
                held.append(bytes(chunk))
                self._held_bytes += len(chunk)
        if not self._held_bytes:
            return None
        need = min(self._size, self._held_bytes)
        self._held_bytes -= need
        parts: list[bytes | memoryview] = []
        while need:
            head, offset = held[0], self._offset
            available = len(head) - offset
            if available <= need:
                parts.append(memoryview(head)[offset:] if offset else head)
                held.popleft()
                self._offset = 0
                need -= available
            else:  # a piece ends inside this read: the rest of it stays for the next piece
                parts.append(memoryview(head)[offset : offset + need])
                self._offset = offset + need
                need = 0
        if len(parts) == 1:
            return parts[0] if isinstance(parts[0], bytes) else bytes(parts[0])
        return b"".join(parts)


def query_pairs(scope: Scope) -> list[tuple[str, str]]:
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return []
    return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
