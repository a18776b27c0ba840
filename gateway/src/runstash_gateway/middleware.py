"""The checks in front of the routes, each a small ASGI middleware with one job.

Stack (outermost first, see :func:`runstash_gateway.app.build_stack`): access log -> response
headers -> Host check -> CORS -> static prefix -> the gateway's routes.
"""

from __future__ import annotations

import logging

from .asgi import (
    HTML,
    TEXT,
    ASGIApp,
    Headers,
    Receive,
    Scope,
    Send,
    header,
    respond,
    timed,
    with_headers,
)
from .quirks import ARTIFACT_PREFIXES, NOT_FOUND_HTML
from .security import (
    ALLOWED_METHODS,
    CORS_BLOCKED_MESSAGE,
    INVALID_HOST_MESSAGE,
    SAFE_METHODS,
    SecurityPolicy,
)

access_log = logging.getLogger("runstash.access")


class AccessLog:
    """One line per request: method, path, status, duration in milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        def done(status: int, seconds: float) -> None:
            access_log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, seconds * 1000)

        await timed(self.app, scope, receive, send, done)


class ResponseHeaders:
    """Headers every answer carries (nosniff, X-Frame-Options) unless the answer set its own."""

    def __init__(self, app: ASGIApp, headers: Headers) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.headers:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, with_headers(send, self.headers))


class HostCheck:
    """One Host header, well formed and allowed (DNS-rebinding guard); ``policy=None`` checks
    only that there is at most one (RFC 9112 §3.2: proxies may route on the other copy)."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy | None) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        if len(hosts) > 1:
            await respond(send, 400, b"Bad Request: more than one Host header", TEXT)
            return
        host = hosts[0].decode("latin-1") if hosts else None
        if self.policy is not None and not self.policy.host_allowed(host):
            await respond(send, 403, INVALID_HOST_MESSAGE, TEXT)
            return
        await self.app(scope, receive, send)


class Cors:
    """Allowed origins get CORS headers and preflight answers; other origins may read (the
    browser hides the body) but not send state-changing requests."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None:
            await self.app(scope, receive, send)
            return
        host = header(scope, b"host")
        method = scope["method"]
        if not self.policy.origin_allowed(origin.decode("latin-1"), host.decode("latin-1") if host else None):
            if method in SAFE_METHODS:
                await self.app(scope, receive, send)
            else:
                await respond(send, 403, CORS_BLOCKED_MESSAGE, TEXT)
            return
        cors = [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
        if method == "OPTIONS":
            await self._preflight(scope, send, cors)
            return
        await self.app(scope, receive, with_headers(send, cors))

    @staticmethod
    async def _preflight(scope: Scope, send: Send, cors: Headers) -> None:
        headers = [
            *cors,
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-max-age", b"600"),
        ]
        requested = header(scope, b"access-control-request-headers")
        if requested:
            headers.append((b"access-control-allow-headers", requested))
        await respond(send, 200, b"OK", TEXT, extra=headers)


class StaticPrefix:
    """``--static-prefix /p``: the UI and API live under ``/p/``; the artifact proxy answers
    unprefixed too, as in MLflow. ``/p`` itself redirects to ``/p/`` (the UI's paths are relative)."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        prefix = self.prefix
        if path == prefix and scope["method"] in SAFE_METHODS:
            query = scope.get("query_string", b"")
            location = (prefix + "/").encode() + (b"?" + query if query else b"")
            await respond(send, 308, b"", TEXT, extra=[(b"location", location)])
            return
        if path.startswith(prefix + "/") or path == prefix:
            scope = {**scope, "path": path[len(prefix) :] or "/"}
        elif not path.startswith(ARTIFACT_PREFIXES):
            await respond(send, 404, NOT_FOUND_HTML, HTML)
            return
        await self.app(scope, receive, send)
