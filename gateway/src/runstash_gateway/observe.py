"""The operator's view of HTTP traffic: request ids and Prometheus metrics (outermost middleware).

* With JSON logs (``RUNSTASH_LOG_FORMAT=json``) every request gets an id, the caller's
  ``X-Request-Id`` when sane, else a new one; it is echoed in the answer's ``X-Request-Id``, put on
  every log line (see :mod:`runstash_protos.telemetry`) and sent to the services with each call.
* With metrics on (``--expose-prometheus``): requests counted by method, route template and status,
  latency per route, and ``GET /metrics`` answered with every worker's values.
"""

from __future__ import annotations

from runstash_protos.metrics import exposition, metrics
from runstash_protos.telemetry import bind_request_id, json_logs, request_id, unbind_request_id

from .asgi import ASGIApp, Receive, Scope, Send, header, respond, timed, with_headers

METRICS_PATH = "/metrics"
# Set by the gateway's router on the scope: the matched route's template (a bounded label set).
ROUTE_KEY = "runstash.route"


def route_label(scope: Scope) -> str:
    """The route template, or one label for everything unrouted (UI files, 404s): raw paths
    would make a label value per URL."""
    route = scope.get(ROUTE_KEY)
    return str(route) if route else "unrouted"


class Observe:
    def __init__(self, app: ASGIApp, *, ids: bool, measure: bool) -> None:
        self.app = app
        self.ids = ids
        self.measure = measure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.measure and scope["path"] == METRICS_PATH and scope["method"] in ("GET", "HEAD"):
            body, content_type = exposition()
            await respond(send, 200, body, content_type.encode(), head_only=scope["method"] == "HEAD")
            return
        token = None
        if self.ids:
            incoming = header(scope, b"x-request-id")
            token = bind_request_id(incoming.decode("latin-1") if incoming else None)
            send = with_headers(send, [(b"x-request-id", (request_id() or "").encode())])
        try:
            if self.measure:
                await self._measured(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            if token is not None:
                unbind_request_id(token)

    async def _measured(self, scope: Scope, receive: Receive, send: Send) -> None:
        observed = metrics()
        assert observed is not None

        def done(status: int, seconds: float) -> None:
            method, route = scope["method"], route_label(scope)
            observed.http_requests.labels(method, route, str(status)).inc()
            observed.http_latency.labels(method, route).observe(seconds)

        await timed(self.app, scope, receive, send, done)


def observe(app: ASGIApp) -> ASGIApp:
    """``app`` wrapped when request ids or metrics are on (settings from the environment)."""
    ids, measure = json_logs(), metrics() is not None
    return Observe(app, ids=ids, measure=measure) if ids or measure else app
