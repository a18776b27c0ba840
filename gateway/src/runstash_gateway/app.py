"""The gateway as a plain ASGI application (no framework: per-request overhead is the budget).

Request flow: the middlewares of :mod:`.middleware` (access log, response headers, Host, CORS,
static prefix) -> fixed endpoints (/health, /version, server-info) -> the route table built from
the services' ``google.api.http`` rules, whose handler transcodes, calls the backend and renders
-> otherwise the web UI's files, then 404 (text/html, which the mlflow client reads as
ENDPOINT_NOT_FOUND). Every error a handler raises is answered in one place, :func:`answer_error`.
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter
from runstash_protos.telemetry import request_id_metadata

from .asgi import (
    HTML,
    JSON,
    TEXT,
    ASGIApp,
    Headers,
    Receive,
    Scope,
    Send,
    respond,
    respond_error,
    without_body,
)
from .auth import EdgeIdentity, denial
from .backends import NO_METADATA, GatewayBackends
from .body import BodyTimeout, ClientDisconnected, PayloadTooLarge
from .config import GatewayConfig
from .handlers import Exchange, RouteTarget, StreamBroken
from .middleware import AccessLog, Cors, HostCheck, ResponseHeaders, StaticPrefix
from .observe import ROUTE_KEY, observe
from .quirks import (
    METHOD_NOT_ALLOWED_HTML,
    NOT_FOUND_HTML,
    RUNSTASH_VERSION_HEADER,
    RUNSTASH_VERSION_PATH,
    SERVER_INFO_PATHS,
    disabled_by_mode,
    merge_slashes,
    runstash_version_json,
    server_info_json,
)
from .routes import RouteTable, build_routes
from .routing import Match, MethodNotAllowed, Router
from .security import SAFE_METHODS, SecurityPolicy
from .static import NOT_BUILT_PAGE, StaticUI

log = logging.getLogger("runstash.gateway")

__all__ = ["Gateway", "StreamBroken", "answer_error", "build_stack"]

# The answer runstash_protos.rpc gives a servicer's bug, for the gateway's own.
_INTERNAL = RunstashError(ErrorCode.INTERNAL_ERROR, "Internal error; see the server log.")


async def answer_error(exc: Exception, scope: Scope, send: Send, config: GatewayConfig) -> None:
    """The gateway's one error boundary: every failure of a route's handler becomes an answer here.

    Servicer errors arrive as RunstashError from both backends (the in-process one applies the
    same guard as the gRPC servers), so the same bug answers the same way in every deployment.
    """
    if isinstance(exc, RunstashError):
        denied = denial(exc)
        if denied is not None:  # MLflow's basic-auth answers: text, with a sign-in challenge
            await respond(send, exc.http_status, denied[0], denied[1], extra=denied[2])
            return
        await respond_error(send, exc)
    elif isinstance(exc, PayloadTooLarge):
        limit = config.max_json_body_bytes
        await respond_error(
            send, invalid_parameter(f"Request body is too large; the limit is {limit} bytes."), status=413
        )
    elif isinstance(exc, BodyTimeout):
        log.info("%s %s: %s", scope["method"], scope["path"], exc)
        await respond(send, 408, f"Request Timeout: {exc}".encode(), TEXT, extra=[(b"connection", b"close")])
    elif isinstance(exc, ClientDisconnected):
        return
    else:
        log.exception("unexpected error on %s %s", scope["method"], scope["path"], exc_info=exc)
        await respond_error(
            send, RunstashError(ErrorCode.INTERNAL_ERROR, "Internal error; see the server log.")
        )


def build_stack(core: ASGIApp, config: GatewayConfig) -> ASGIApp:
    """The middlewares around the routes, innermost last in the order below."""
    app = core
    if config.static_prefix.rstrip("/"):
        app = StaticPrefix(app, config.static_prefix)
    policy = None
    if not config.disable_security_middleware:
        policy = SecurityPolicy(config.allowed_hosts, config.cors_allowed_origins)
        app = Cors(app, policy)
    app = HostCheck(app, policy)
    headers: Headers = [(b"x-content-type-options", b"nosniff")]
    frame = config.x_frame_options.upper()
    if frame and frame != "NONE":
        headers.append((b"x-frame-options", frame.encode("latin-1")))
    app = ResponseHeaders(app, headers)
    if config.access_log:
        app = AccessLog(app)
    return observe(app)


class Gateway:
    """The ASGI callable. Build with :func:`runstash_gateway.build_app` / ``create_gateway``."""

    def __init__(self, backends: GatewayBackends, config: GatewayConfig) -> None:
        self.config = config
        self.backends = backends
        self._table: RouteTable | None = None
        self._start_lock = asyncio.Lock()
        self._ui = StaticUI(config.ui_dist)
        self._server_info = orjson.dumps(server_info_json(config))
        self._version = config.server_version.encode()
        self._version_headers = [(RUNSTASH_VERSION_HEADER, config.runstash_version.encode())]
        self._runstash_version = runstash_version_json(config)
        self._mode_gated = config.artifacts_only or not config.serve_artifacts
        self._stack = build_stack(self._routes, config)
        self._identity = EdgeIdentity.from_env()

    @property
    def router(self) -> Router[RouteTarget] | None:
        return None if self._table is None else self._table.router

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Start the backends and build the route table from their reflected descriptors."""
        async with self._start_lock:
            if self._table is None:
                self._table = await build_routes(self.backends.backends, self.config)
                await self._read_capabilities(self._table)

    async def _read_capabilities(self, table: RouteTable) -> None:
        """server-info flags from the artifact service's GetArtifactCapabilities (no HTTP rule):
        every set field named like a server-info key wins over the config, since the service
        knows its settings and its storage. A failure never stops the gateway."""
        if table.capabilities is None:
            return
        backend, rpc = table.capabilities
        try:
            response = await backend.unary(rpc, rpc.request_class(), NO_METADATA)
        except Exception as exc:
            log.warning("artifact capabilities unavailable (%s); server-info uses the config", exc)
            return
        info = server_info_json(self.config)
        for field, value in response.ListFields():
            if field.name in info and type(value) is type(info[field.name]):
                info[field.name] = value
        self._server_info = orjson.dumps(info)

    async def close(self) -> None:
        for backend in self.backends.backends:
            await backend.close()

    # ------------------------------------------------------------ ASGI entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._stack(scope, receive, send)
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

    async def _routes(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The innermost app: fixed endpoints, then routes, then the UI's files."""
        method: str = scope["method"]
        path = merge_slashes(scope["path"])
        if await self._fixed(method, path, send):
            return
        if self._mode_gated:
            disabled = disabled_by_mode(path, self.config)
            if disabled is not None:
                await respond(send, 503, disabled, TEXT)
                return
        if self._table is None:
            await self.start()
        assert self._table is not None
        router = self._table.router
        found = router.match(method, path)
        if method == "HEAD" and type(found) is not Match:
            head = router.match("GET", path)  # as Flask does: HEAD is GET without the body
            if type(head) is Match:
                found, send = head, without_body(send)
        if type(found) is Match:
            target: RouteTarget = found.target
            scope[ROUTE_KEY] = target.template
            try:
                identity = self._identity.metadata(scope["headers"], scope.get("client"))
                identity += request_id_metadata()
                await target.handle(target, Exchange(scope, receive, send, found.params, identity))
            except StreamBroken:
                raise
            except Exception as exc:
                await answer_error(exc, scope, send, self.config)
        elif isinstance(found, MethodNotAllowed):
            allow = ", ".join(found.allowed).encode()
            await respond(send, 405, METHOD_NOT_ALLOWED_HTML, HTML, extra=[(b"allow", allow)])
        else:
            await self._unrouted(method, path, send)

    async def _fixed(self, method: str, path: str, send: Send) -> bool:
        """/health, /version, server-info and runstash's own version; not proto RPCs."""
        extra: Headers | None = None
        if path == "/health":
            body, content_type = b"OK", TEXT
        elif path == "/version":
            body, content_type, extra = self._version, TEXT, self._version_headers
        elif path in SERVER_INFO_PATHS:
            body, content_type = self._server_info, JSON
        elif path == RUNSTASH_VERSION_PATH:
            body, content_type = self._runstash_version, JSON
        else:
            return False
        if method not in SAFE_METHODS:
            await respond(send, 405, METHOD_NOT_ALLOWED_HTML, HTML, extra=[(b"allow", b"GET, HEAD")])
        else:
            await respond(send, 200, body, content_type, extra=extra, head_only=method == "HEAD")
        return True

    async def _unrouted(self, method: str, path: str, send: Send) -> None:
        head_only = method == "HEAD"
        if method in SAFE_METHODS and not path.startswith(("/api/", "/ajax-api/")):
            static = self._ui.lookup(path)
            if static is not None:
                extra = [(b"cache-control", static.cache_control.encode())]
                await respond(
                    send, 200, static.body, static.content_type.encode(), extra=extra, head_only=head_only
                )
                return
            if path == "/" and not self._ui.built:
                await respond(send, 200, NOT_BUILT_PAGE, TEXT, head_only=head_only)
                return
        await respond(send, 404, NOT_FOUND_HTML, HTML)
