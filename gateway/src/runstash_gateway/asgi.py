"""The few ASGI types and answer helpers every part of the gateway shares (no framework)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from runstash_protos.errors import RunstashError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"
HTML = b"text/html; charset=utf-8"


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    *,
    extra: Headers | None = None,
    head_only: bool = False,
) -> None:
    """A whole answer in two messages."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra:
        headers += extra
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head_only else body})


async def respond_error(send: Send, error: RunstashError, *, status: int | None = None) -> None:
    """MLflow's JSON error body with the HTTP status of its error code."""
    await respond(send, status or error.http_status, orjson.dumps(error.to_json()), JSON)


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of one request header (names are lower-case in ASGI)."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


def with_headers(send: Send, added: Headers) -> Send:
    """``send`` adding ``added`` to the response's headers, unless the response set them itself."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            given = {name for name, _ in headers}
            headers += [(name, value) for name, value in added if name not in given]
            message = {**message, "headers": headers}
        await send(message)

    return sending


def without_body(send: Send) -> Send:
    """``send`` for a HEAD request answered by the GET route: headers only."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return sending


async def timed(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, done: Callable[[int, float], None]
) -> None:
    """Runs ``app`` and then calls ``done(status, seconds)``, also when it raised (status 0 when
    no answer was started): the access log and the metrics both watch requests this way."""
    started = time.perf_counter()
    status = 0

    async def sending(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, sending)
    finally:
        done(status, time.perf_counter() - started)
