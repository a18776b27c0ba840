"""The gateway as a plain ASGI application (no framework: per-request overhead is the budget).

Request flow: security checks -> fixed endpoints (/health, /version, server-info) -> route table
built from the services' google.api.http rules -> transcode -> backend call -> render. Paths no
route knows fall through to the web UI files, then 404 (text/html, which the mlflow client reads as
ENDPOINT_NOT_FOUND).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from google.protobuf.message import Message
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter

from .auth import EdgeIdentity, denial
from .backends import Backend, GatewayBackends, Metadata, RpcMethod
from .config import GatewayConfig
from .descriptors import HttpBinding, ReflectedService, reflect_services
from .routing import Match, MethodNotAllowed, Router
from .security import (
    ALLOWED_METHODS,
    CORS_BLOCKED_MESSAGE,
    INVALID_HOST_MESSAGE,
    SAFE_METHODS,
    SecurityPolicy,
)
from .static import NOT_BUILT_PAGE, StaticUI
from .transcoder import CodecRegistry, MessageCodec, _Field

log = logging.getLogger("runstash.gateway")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
_HTML = b"text/html; charset=utf-8"
_NO_METADATA: Metadata = ()
PRESENT_EMPTY_METADATA_KEY = "x-runstash-present-empty"

_NOT_FOUND_HTML = (
    b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    b"<p>The requested URL was not found on the server. If you entered the URL manually please check "
    b"your spelling and try again.</p>\n"
)
_METHOD_NOT_ALLOWED_HTML = (
    b"<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    b"<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
)

# Paths of the artifact proxy (disabled by --no-serve-artifacts).
_ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")
_SERVER_INFO_PATHS = ("/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info")


class ClientDisconnected(Exception):
    """The HTTP client went away while we were reading its body."""


class _PayloadTooLarge(Exception):
    pass


class StreamBroken(Exception):
    """A streamed response failed after its status line was sent; the connection must be dropped."""


@dataclass(slots=True)
class _Exchange:
    """One HTTP request in flight: its ASGI channels and the few headers the gateway reads."""

    scope: Scope
    receive: Receive
    send: Send
    cors: Headers | None
    content_type: bytes | None
    content_length: bytes | None


@dataclass(slots=True)
class RouteTarget:
    """Everything a request on one (method, path template) needs, resolved at start-up."""

    kind: str  # "unary" | "upload" | "download"
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


def _present_empty(kwargs: dict[str, Any]) -> Metadata:
    """Top-level repeated fields the JSON body gave as ``[]``: protobuf cannot tell them from
    absent ones, MLflow sometimes does (``experiment_ids`` absent is a 400, ``[]`` is not). The
    service may read them from the ``x-runstash-present-empty`` call metadata (comma-separated)."""
    names = [name for name, value in kwargs.items() if type(value) is list and not value]
    if not names:
        return _NO_METADATA
    return ((PRESENT_EMPTY_METADATA_KEY, ",".join(names)),)


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return send_headers_only


def _error_body(error: RunstashError) -> bytes:
    return orjson.dumps(error.to_json())


def _classify(rpc: RpcMethod, binding: HttpBinding, codec: MessageCodec, response: MessageCodec) -> str:
    if rpc.client_streaming:
        field = codec.field(binding.body) if binding.body not in ("", "*") else None
        if field is None or field.is_message or field.is_repeated or field.convert is None:
            raise ValueError(f"client-streaming {rpc.path} needs body: '<bytes field>'")
        return "upload"
    if rpc.server_streaming:
        field = response.field(binding.response_body) if binding.response_body else None
        if field is None or field.is_message or field.is_repeated:
            raise ValueError(f"server-streaming {rpc.path} needs response_body: '<bytes field>'")
        return "download"
    return "unary"


class Gateway:
    """The ASGI callable. Build with :func:`runstash_gateway.build_app` / ``create_gateway``."""

    def __init__(self, backends: GatewayBackends, config: GatewayConfig) -> None:
        self.config = config
        self.backends = backends
        self.router: Router[RouteTarget] | None = None
        self._start_lock = asyncio.Lock()
        self._ui = StaticUI(config.ui_dist)
        self._security = (
            None
            if config.disable_security_middleware
            else SecurityPolicy(config.allowed_hosts, config.cors_allowed_origins)
        )
        self._base_headers: Headers = [(b"x-content-type-options", b"nosniff")]
        frame = config.x_frame_options.upper()
        if frame and frame != "NONE":
            self._base_headers.append((b"x-frame-options", frame.encode("latin-1")))
        self._prefix = config.static_prefix.rstrip("/")
        self._server_info = orjson.dumps(self._server_info_json())
        self._version = config.server_version.encode()
        self._chunk = max(1, config.stream_chunk_bytes)
        self._capability_method: tuple[Backend, RpcMethod] | None = None
        self._mode_gated = config.artifacts_only or not config.serve_artifacts
        self._identity = EdgeIdentity.from_env()

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Start the backends and build the route table from their reflected descriptors."""
        async with self._start_lock:
            if self.router is not None:
                return
            router: Router[RouteTarget] = Router()
            claimed: dict[str, str] = {}
            for backend in self.backends.backends:
                await backend.start()
                registry = CodecRegistry(backend.message_class)
                for service in await self._reflect_with_retry(backend):
                    if service.name in claimed:
                        log.warning(
                            "service %s offered by %s and %s; using the first",
                            service.name,
                            claimed[service.name],
                            backend.label,
                        )
                        continue
                    claimed[service.name] = backend.label
                    if service.capabilities is not None and self._capability_method is None:
                        self._capability_method = (backend, service.capabilities)
                    for method in service.methods:
                        for binding in method.bindings:
                            self._add_route(router, registry, backend, method.rpc, binding)
            self.router = router
            await self._read_capabilities(router)
            log.info("gateway routes: %d from %s", sum(1 for _ in router.routes()), ", ".join(claimed))

    async def _reflect_with_retry(self, backend: Backend) -> list[ReflectedService]:
        """Split deployments may start the gateway before its services: wait for them, bounded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.startup_timeout_s
        delay = 0.1
        while True:
            try:
                return await reflect_services(backend)
            except RunstashError as exc:
                if exc.code != ErrorCode.TEMPORARILY_UNAVAILABLE or loop.time() + delay > deadline:
                    raise
                log.info("waiting for %s: %s", backend.label, exc.message)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _add_route(
        self,
        router: Router[RouteTarget],
        registry: CodecRegistry,
        backend: Backend,
        rpc: RpcMethod,
        binding: HttpBinding,
    ) -> None:
        codec = registry.codec(rpc.request_class)
        response = registry.codec(rpc.response_class)
        try:
            kind = _classify(rpc, binding, codec, response)
        except ValueError as exc:
            log.warning("skipping route %s %s: %s", binding.http_method, binding.template, exc)
            return
        body_field = None
        if binding.body not in ("", "*"):
            body_field = codec.field(binding.body)
            if body_field is None:
                log.warning("skip %s %s: no field %r", binding.http_method, binding.template, binding.body)
                return
        headers_field = response.field("headers")
        target = RouteTarget(
            kind=kind,
            http_method=binding.http_method,
            template=binding.template,
            rpc=rpc,
            backend=backend,
            request_codec=codec,
            response_codec=response,
            body=binding.body,
            body_field=body_field,
            response_body=binding.response_body,
            check_content_type=(
                kind == "unary" and binding.http_method in ("POST", "PUT") and bool(binding.body)
            ),
            has_headers_field=headers_field is not None and headers_field.is_map,
        )
        router.add(binding.http_method, binding.template, target)

    async def _read_capabilities(self, router: Router[RouteTarget]) -> None:
        """server-info flags from the artifact service, when it offers GetArtifactCapabilities.

        The RPC has no HTTP rule, so it is looked up among the reflected methods. Every set field
        whose name is a server-info key (multipart_uploads_enabled, presigned_*_supported, ...)
        wins over the config: the service knows both its settings and its storage. A failure
        here never stops the gateway; server-info then answers from the config.
        """
        capability = self._capability_method
        if capability is None:
            return
        backend, rpc = capability
        try:
            response = await backend.unary(rpc, rpc.request_class(), _NO_METADATA)
        except Exception as exc:
            log.warning("artifact capabilities unavailable (%s); server-info uses the config", exc)
            return
        info = self._server_info_json()
        for field, value in response.ListFields():
            if field.name in info and type(value) is type(info[field.name]):
                info[field.name] = value
        self._server_info = orjson.dumps(info)

    async def close(self) -> None:
        for backend in self.backends.backends:
            await backend.close()

    def _server_info_json(self) -> dict[str, Any]:
        config = self.config
        return {
            "store_type": config.store_type,
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": config.multipart_uploads_enabled,
            "multipart_downloads_enabled": config.multipart_downloads_enabled,
            "artifact_serving_enabled": config.serve_artifacts,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "model_artifact_presigned_downloads_supported": False,
            "features_enabled": {"gateway": False, "scheduled_issue_detection": False},
            "tracking_auth": "",
            "artifacts_presigned_only": config.artifacts_presigned_only,
        }

    # ------------------------------------------------------------ ASGI entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        # websockets: not served; returning without accepting closes the socket

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    log.exception("gateway start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _respond(
        self,
        send: Send,
        status: int,
        body: bytes,
        content_type: bytes,
        *,
        extra: Headers | None = None,
        head_only: bool = False,
    ) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        headers += self._base_headers
        if extra:
            headers += extra
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head_only else body})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        content_type = host = origin = content_length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"host":
                if host is not None:
                    # RFC 9112 §3.2: more than one Host field is a 400. Checking only one copy
                    # invites Host confusion behind proxies that route on the other.
                    await self._respond(send, 400, b"Bad Request: more than one Host header", _TEXT)
                    return
                host = value
            elif name == b"origin":
                origin = value
            elif name == b"content-length":
                content_length = value

        cors: Headers | None = None
        if self._security is not None:
            host_text = host.decode("latin-1") if host is not None else None
            if not self._security.host_allowed(host_text):
                await self._respond(send, 403, INVALID_HOST_MESSAGE, _TEXT)
                return
            if origin is not None:
                origin_text = origin.decode("latin-1")
                if self._security.origin_allowed(origin_text, host_text):
                    cors = [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
                    if method == "OPTIONS":
                        await self._preflight(scope, send, cors)
                        return
                elif method not in SAFE_METHODS:
                    await self._respond(send, 403, CORS_BLOCKED_MESSAGE, _TEXT)
                    return

        if self._prefix:
            if path == self._prefix and method in SAFE_METHODS:
                # The UI's asset and API paths are relative: they only resolve under `/prefix/`.
                query = scope.get("query_string", b"")
                location = (self._prefix + "/").encode() + (b"?" + query if query else b"")
                await self._respond(send, 308, b"", _TEXT, extra=[(b"location", location), *(cors or ())])
                return
            if path.startswith(self._prefix + "/") or path == self._prefix:
                path = path[len(self._prefix) :] or "/"
            elif not path.startswith(_ARTIFACT_PREFIXES):  # MLflow serves these unprefixed too
                await self._respond(send, 404, _NOT_FOUND_HTML, _HTML, extra=cors)
                return

        if await self._fixed(method, path, send, cors):
            return
        if self._mode_gated and await self._disabled_by_mode(path, send, cors):
            return

        router = self.router
        if router is None:
            await self.start()
            router = self.router
            assert router is not None
        found = router.match(method, path)
        if method == "HEAD" and type(found) is not Match:
            # As Flask does: HEAD is GET without the body.
            head = router.match("GET", path)
            if type(head) is Match:
                found, send = head, _without_body(send)
        if type(found) is Match:
            target: RouteTarget = found.target
            exchange = _Exchange(scope, receive, send, cors, content_type, content_length)
            try:
                if target.kind == "unary":
                    await self._unary(target, found.params, exchange)
                elif target.kind == "upload":
                    await self._upload(target, found.params, exchange)
                else:
                    await self._download(target, found.params, exchange)
            except RunstashError as error:
                denied = denial(error.http_status)
                if denied is not None:  # MLflow's basic-auth answers: text, with a sign-in challenge
                    await self._respond(
                        send, error.http_status, denied[0], denied[1], extra=denied[2] + (cors or [])
                    )
                    return
                await self._respond(send, error.http_status, _error_body(error), _JSON, extra=cors)
            except _PayloadTooLarge:
                too_large = invalid_parameter(
                    f"Request body is too large; the limit is {self.config.max_json_body_bytes} bytes."
                )
                await self._respond(send, 413, _error_body(too_large), _JSON, extra=cors)
            except ClientDisconnected:
                return
            except StreamBroken:
                raise
            except Exception as exc:
                log.exception("unexpected error on %s %s", method, path)
                internal = RunstashError(ErrorCode.INTERNAL_ERROR, f"Internal error: {type(exc).__name__}")
                await self._respond(send, 500, _error_body(internal), _JSON, extra=cors)
            return
        if isinstance(found, MethodNotAllowed):
            allow = ", ".join(found.allowed).encode()
            extra = [(b"allow", allow), *(cors or ())]
            await self._respond(send, 405, _METHOD_NOT_ALLOWED_HTML, _HTML, extra=extra)
            return
        await self._unrouted(method, path, send, cors)

    async def _preflight(self, scope: Scope, send: Send, cors: Headers) -> None:
        requested = b""
        for name, value in scope["headers"]:
            if name == b"access-control-request-headers":
                requested = value
        headers = [
            *cors,
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-max-age", b"600"),
        ]
        if requested:
            headers.append((b"access-control-allow-headers", requested))
        await self._respond(send, 200, b"OK", _TEXT, extra=headers)

    async def _fixed(self, method: str, path: str, send: Send, cors: Headers | None) -> bool:
        """/health, /version and server-info; not proto RPCs."""
        if path == "/health":
            body, content_type = b"OK", _TEXT
        elif path == "/version":
            body, content_type = self._version, _TEXT
        elif path in _SERVER_INFO_PATHS:
            body, content_type = self._server_info, _JSON
        else:
            return False
        if method not in SAFE_METHODS:
            extra = [(b"allow", b"GET, HEAD"), *(cors or ())]
            await self._respond(send, 405, _METHOD_NOT_ALLOWED_HTML, _HTML, extra=extra)
        else:
            await self._respond(send, 200, body, content_type, extra=cors, head_only=method == "HEAD")
        return True

    async def _disabled_by_mode(self, path: str, send: Send, cors: Headers | None) -> bool:
        """`--no-serve-artifacts` / `--artifacts-only`: 503 text, whatever the backends offer."""
        if path.startswith(_ARTIFACT_PREFIXES):
            if self.config.serve_artifacts:
                return False
            message = (
                f"Endpoint: {path} disabled due to the mlflow server running with `--no-serve-artifacts`. "
                "To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`"
            )
        elif self.config.artifacts_only and path.startswith(("/api/", "/ajax-api/", "/get-artifact")):
            message = (
                f"Endpoint: {path} disabled due to the mlflow server running in `--artifacts-only` mode. "
                "To enable tracking server functionality, run `mlflow server` without `--artifacts-only`"
            )
        else:
            return False
        await self._respond(send, 503, message.encode(), _TEXT, extra=cors)
        return True

    async def _unrouted(self, method: str, path: str, send: Send, cors: Headers | None) -> None:
        if method in SAFE_METHODS and not path.startswith(("/api/", "/ajax-api/")):
            static = self._ui.lookup(path)
            if static is not None:
                extra = [(b"cache-control", static.cache_control.encode())]
                content_type = static.content_type.encode()
                head_only = method == "HEAD"
                await self._respond(send, 200, static.body, content_type, extra=extra, head_only=head_only)
                return
            if path == "/" and not self._ui.built:
                await self._respond(send, 200, NOT_BUILT_PAGE, _TEXT, extra=cors, head_only=method == "HEAD")
                return
        await self._respond(send, 404, _NOT_FOUND_HTML, _HTML, extra=cors)

    # ------------------------------------------------------------ request decoding

    async def _read_body(self, receive: Receive, content_length: bytes | None) -> bytes:
        limit = self.config.max_json_body_bytes
        if content_length is not None:
            try:
                declared = int(content_length)
            except ValueError:
                raise invalid_parameter("Invalid Content-Length header.") from None
            if declared > limit:
                raise _PayloadTooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise _PayloadTooLarge
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)

    @staticmethod
    def _decode_json(body: bytes) -> dict[str, Any]:
        if not body or body.isspace():
            return {}
        try:
            value: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            try:  # NaN/Infinity literals and huge integers are valid Python JSON, not orjson's
                value = json.loads(body)
            except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
                raise invalid_parameter(f"Malformed JSON in request body: {exc}") from None
        if type(value) is str:  # legacy clients double-encode the body
            try:
                value = json.loads(value)
            except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
                raise invalid_parameter(f"Malformed JSON in request body: {exc}") from None
        if value is None:  # `null` reads as an empty request, as in MLflow
            return {}
        if type(value) is not dict:
            raise invalid_parameter(
                f"Invalid request body: expected a JSON object, got {type(value).__name__}."
            )
        return value

    @staticmethod
    def _check_content_type(content_type: bytes | None) -> None:
        if content_type is None:
            raise invalid_parameter("Bad Request. Content-Type header is missing.")
        media = content_type.split(b";", 1)[0].strip().lower()
        if media != b"application/json":
            raise invalid_parameter("Bad Request. Content-Type must be one of ['application/json'].")

    @staticmethod
    def _query_pairs(scope: Scope) -> list[tuple[str, str]]:
        raw: bytes = scope.get("query_string", b"")
        if not raw:
            return []
        return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)

    @staticmethod
    def _bind_path(codec: MessageCodec, kwargs: dict[str, Any], params: dict[str, str]) -> None:
        for name, value in params.items():
            codec.set_path_value(kwargs, name, value)

    # ------------------------------------------------------------ unary

    async def _unary(self, target: RouteTarget, params: dict[str, str], exchange: _Exchange) -> None:
        codec = target.request_codec
        body_rule = target.body
        scope = exchange.scope
        if body_rule:
            if target.check_content_type:
                self._check_content_type(exchange.content_type)
            document = self._decode_json(await self._read_body(exchange.receive, exchange.content_length))
            if body_rule == "*":
                kwargs = codec.checked_kwargs(document)
            else:
                kwargs = codec.checked_query_kwargs(self._query_pairs(scope))
                field = target.body_field
                assert field is not None and field.codec is not None
                kwargs[field.name] = field.codec.checked_kwargs(document)
        else:
            kwargs = codec.checked_query_kwargs(self._query_pairs(scope)) if scope.get("query_string") else {}
        if params:
            self._bind_path(codec, kwargs, params)
        request = codec.build(kwargs)
        metadata = self._identity.metadata(scope["headers"], scope.get("client"))
        if body_rule == "*":
            metadata += _present_empty(kwargs)
        response = await target.backend.unary(target.rpc, request, metadata)
        rendered = target.response_codec.render_json(response, self.config.stream_json_items)
        if isinstance(rendered, bytes):
            await self._respond(exchange.send, 200, rendered, _JSON, extra=exchange.cors)
            return
        await self._send_pieces(exchange, rendered)

    async def _send_pieces(self, exchange: _Exchange, pieces: Iterable[bytes]) -> None:
        """A large JSON body, chunked: each piece is rendered only when the previous one is sent."""
        send = exchange.send
        headers = [(b"content-type", _JSON), *self._base_headers, *(exchange.cors or ())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    # ------------------------------------------------------------ byte streams

    async def _body_chunks(self, receive: Receive) -> AsyncIterator[bytes]:
        """The raw request body re-cut into ~stream_chunk_bytes pieces (memory stays bounded)."""
        size = self._chunk
        buffer = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            piece = message.get("body", b"")
            if piece:
                buffer += piece
                if len(buffer) >= size:
                    yield bytes(buffer)
                    buffer.clear()
            if not message.get("more_body", False):
                break
        if buffer:
            yield bytes(buffer)

    async def _upload(self, target: RouteTarget, params: dict[str, str], exchange: _Exchange) -> None:
        codec = target.request_codec
        first_kwargs = codec.checked_query_kwargs(self._query_pairs(exchange.scope))
        if params:
            self._bind_path(codec, first_kwargs, params)
        field_name = target.body
        message_class = target.rpc.request_class

        async def requests() -> AsyncIterator[Message]:
            first = True
            async for chunk in self._body_chunks(exchange.receive):
                if first:
                    first_kwargs[field_name] = chunk
                    first = False
                    yield codec.build(first_kwargs)
                else:
                    yield message_class(**{field_name: chunk})
            if first:  # empty body: still one message carrying the path fields
                first_kwargs[field_name] = b""
                yield codec.build(first_kwargs)

        identity = self._identity.metadata(exchange.scope["headers"], exchange.scope.get("client"))
        response = await target.backend.client_stream(target.rpc, requests(), identity)
        rendered = target.response_codec.to_dict(response)
        send, cors = exchange.send, exchange.cors
        if not rendered and target.http_method == "PUT":
            await self._respond(send, 200, b"", _JSON, extra=cors)  # MLflow's ASGI upload route: empty body
            return
        await self._respond(send, 200, orjson.dumps(rendered), _JSON, extra=cors)

    async def _download(self, target: RouteTarget, params: dict[str, str], exchange: _Exchange) -> None:
        codec = target.request_codec
        send, cors = exchange.send, exchange.cors
        kwargs = codec.checked_query_kwargs(self._query_pairs(exchange.scope))
        if params:
            self._bind_path(codec, kwargs, params)
        request = codec.build(kwargs)
        identity = self._identity.metadata(exchange.scope["headers"], exchange.scope.get("client"))
        stream = target.backend.server_stream(target.rpc, request, identity)
        data_field = target.response_body
        try:
            try:
                first: Message | None = await anext(stream)
            except StopAsyncIteration:
                first = None
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
            given = {name for name, _ in headers}
            headers += [(name, value) for name, value in self._base_headers if name not in given]
            if cors:
                headers += cors
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
