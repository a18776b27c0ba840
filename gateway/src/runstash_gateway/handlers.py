"""One handler per kind of route (unary JSON, byte-stream upload, byte-stream download), chosen
once at start-up from the RPC's shape and its ``google.api.http`` rule.

A handler decodes the HTTP request into the request message, calls the backend, and renders the
answer. Errors are not answered here: they rise to the one boundary in :mod:`.app`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf.message import Message

from .asgi import JSON, Headers, Receive, Scope, Send, respond
from .backends import NO_METADATA, Backend, Metadata, RpcMethod
from .body import BodyChunks, query_pairs, read_body
from .config import GatewayConfig
from .descriptors import HttpBinding
from .fields import _Field
from .otlp import OTLP_PATH, handle_otlp
from .quirks import check_content_type, decode_json
from .transcoder import MessageCodec

log = logging.getLogger("runstash.gateway")

PRESENT_EMPTY_METADATA_KEY = "x-runstash-present-empty"


class StreamBroken(Exception):
    """A streamed response failed after its status line was sent; the connection must be dropped."""


@dataclass(slots=True)
class Exchange:
    """One HTTP request in flight: its ASGI channels, the route's path parameters, and the call
    metadata every backend call of this request carries (identity, when the edge adds one)."""

    scope: Scope
    receive: Receive
    send: Send
    params: dict[str, str]
    metadata: Metadata = NO_METADATA


Handler = Callable[["RouteTarget", Exchange], Awaitable[None]]


@dataclass(slots=True)
class RouteTarget:
    """Everything a request on one (method, path template) needs, resolved at start-up."""

    handle: Handler
    http_method: str
    template: str
    rpc: RpcMethod
    backend: Backend
    request_codec: MessageCodec
    response_codec: MessageCodec
    body: str  # "*", "" or a field name
    body_field: _Field | None
    response_body: str
    check_content_type: bool
    has_headers_field: bool
    config: GatewayConfig


def present_empty(kwargs: dict[str, Any]) -> Metadata:
    """Top-level repeated fields the JSON body gave as ``[]``: protobuf cannot tell them from
    absent ones, MLflow sometimes does (``experiment_ids`` absent is a 400, ``[]`` is not). The
    service reads them from the ``x-runstash-present-empty`` call metadata (comma-separated)."""
    names = [name for name, value in kwargs.items() if type(value) is list and not value]
    if not names:
        return NO_METADATA
    return ((PRESENT_EMPTY_METADATA_KEY, ",".join(names)),)


def _path_kwargs(target: RouteTarget, exchange: Exchange) -> dict[str, Any]:
    """Query string and path parameters (what every kind of route reads)."""
    codec = target.request_codec
    pairs = query_pairs(exchange.scope)
    kwargs = codec.checked_query_kwargs(pairs) if pairs else {}
    for name, value in exchange.params.items():
        codec.set_path_value(kwargs, name, value)
    return kwargs


async def _unary_request(target: RouteTarget, exchange: Exchange) -> tuple[Message, Metadata]:
    codec, config = target.request_codec, target.config
    if not target.body:
        return codec.build(_path_kwargs(target, exchange)), exchange.metadata
    scope = exchange.scope
    content_type = content_length = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            content_length = value
    if target.check_content_type:
        check_content_type(content_type)
    raw = await read_body(exchange.receive, content_length, config.max_json_body_bytes, config.body_timeout_s)
    document = decode_json(raw)
    if target.body == "*":
        kwargs = codec.checked_kwargs(document)
        metadata = exchange.metadata + present_empty(kwargs)
        for name, value in exchange.params.items():
            codec.set_path_value(kwargs, name, value)
        return codec.build(kwargs), metadata
    kwargs = _path_kwargs(target, exchange)
    field = target.body_field
    assert field is not None and field.codec is not None
    kwargs[field.name] = field.codec.checked_kwargs(document)
    return codec.build(kwargs), exchange.metadata


async def handle_unary(target: RouteTarget, exchange: Exchange) -> None:
    request, metadata = await _unary_request(target, exchange)
    response = await target.backend.unary(target.rpc, request, metadata)
    rendered = target.response_codec.render_json(response, target.config.stream_json_items)
    send = exchange.send
    if isinstance(rendered, bytes):
        await respond(send, 200, rendered, JSON)
        return
    # A large JSON body, chunked: each piece is rendered only when the previous one is sent.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", JSON)]})
    for piece in rendered:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def handle_upload(target: RouteTarget, exchange: Exchange) -> None:
    codec, config = target.request_codec, target.config
    first_kwargs = _path_kwargs(target, exchange)
    chunks = BodyChunks(exchange.receive, config.stream_chunk_bytes, config.body_timeout_s)
    # Wait for the first bytes here, on the event loop: an idle client holds no service thread.
    await chunks.first()
    field_name = target.body
    message_class = target.rpc.request_class

    async def requests() -> AsyncIterator[Message]:
        first = True
        async for chunk in chunks:
            if first:
                first_kwargs[field_name] = chunk
                first = False
                yield codec.build(first_kwargs)
            else:
                yield message_class(**{field_name: chunk})
        if first:  # empty body: still one message carrying the path fields
            first_kwargs[field_name] = b""
            yield codec.build(first_kwargs)

    response = await target.backend.client_stream(target.rpc, requests(), exchange.metadata)
    rendered = target.response_codec.to_dict(response)
    if not rendered and target.http_method == "PUT":
        await respond(exchange.send, 200, b"", JSON)  # MLflow's ASGI upload route: empty body
        return
    await respond(exchange.send, 200, orjson.dumps(rendered), JSON)


def _download_headers(target: RouteTarget, first: Message | None) -> Headers:
    """The artifact service's headers from the first message (it knows the file's name and type)."""
    headers: Headers = []
    content_type = b"application/octet-stream"
    if first is not None and target.has_headers_field:
        for name, value in getattr(first, "headers").items():  # noqa: B009 - field from descriptor
            lowered = name.lower().encode("latin-1")
            if lowered == b"content-type":
                content_type = value.encode("latin-1")
            elif lowered not in (b"transfer-encoding", b"connection"):
                headers.append((lowered, value.encode("latin-1")))
    headers.append((b"content-type", content_type))
    return headers


async def handle_download(target: RouteTarget, exchange: Exchange) -> None:
    request = target.request_codec.build(_path_kwargs(target, exchange))
    stream = target.backend.server_stream(target.rpc, request, exchange.metadata)
    send, data_field = exchange.send, target.response_body
    try:
        first: Message | None = await anext(stream, None)
        headers = _download_headers(target, first)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        try:
            if first is not None:
                data = getattr(first, data_field)
                if data:
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                async for message in stream:
                    data = getattr(message, data_field)
                    if data:
                        await send({"type": "http.response.body", "body": data, "more_body": True})
        except Exception as exc:
            # Too late for an error status: drop the connection so the client sees a truncated body.
            log.warning("download %s failed mid-stream: %s", target.template, exc)
            raise StreamBroken(str(exc)) from exc
        await send({"type": "http.response.body", "body": b""})
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


def choose_handler(
    rpc: RpcMethod, binding: HttpBinding, request: MessageCodec, response: MessageCodec
) -> Handler:
    """The handler for one route, from the RPC's streaming shape; ValueError if the rule cannot be
    served (a byte stream must name the one bytes field it carries)."""
    if binding.template == OTLP_PATH:
        return handle_otlp
    if rpc.client_streaming:
        field = request.field(binding.body) if binding.body not in ("", "*") else None
        if field is None or field.is_message or field.is_repeated or field.convert is None:
            raise ValueError(f"client-streaming {rpc.path} needs body: '<bytes field>'")
        return handle_upload
    if rpc.server_streaming:
        field = response.field(binding.response_body) if binding.response_body else None
        if field is None or field.is_message or field.is_repeated:
            raise ValueError(f"server-streaming {rpc.path} needs response_body: '<bytes field>'")
        return handle_download
    return handle_unary
