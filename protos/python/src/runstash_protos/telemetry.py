"""What operators see of a request across processes: its request id, JSON log lines, and the
gRPC side of the Prometheus metrics (see :mod:`runstash_protos.metrics`).

The gateway gives each HTTP request an id (the caller's ``X-Request-Id`` when it is a sane token,
else a new one) and sends it to the services as the ``x-request-id`` call metadata; the services'
interceptor takes it from there. Every log line written while the request is handled carries it
(``request_id`` in the JSON format), so one grep follows a request from the gateway into the
service that served it.

Settings travel in the environment, so uvicorn workers and services started by the same command
see the same ones: ``RUNSTASH_LOG_FORMAT`` (``text`` or ``json``), ``RUNSTASH_METRICS`` (on when
``--expose-prometheus`` or a metrics port is given), ``RUNSTASH_ACCESS_LOG`` (one line per RPC in
the services; default: on with JSON logs, else off).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from runstash_protos.flags import parse_bool

LOG_FORMAT_ENV = "RUNSTASH_LOG_FORMAT"
ACCESS_LOG_ENV = "RUNSTASH_ACCESS_LOG"
REQUEST_ID_KEY = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("runstash_request_id", default=None)
rpc_log = logging.getLogger("runstash.rpc.access")


def json_logs() -> bool:
    return os.environ.get(LOG_FORMAT_ENV, "text").strip().lower() == "json"


def request_id() -> str | None:
    """The id of the request this code runs for, if any."""
    return _request_id.get()


def bind_request_id(incoming: str | None) -> contextvars.Token[str | None]:
    """Make ``incoming`` (if a sane token, else a new id) the current request's id."""
    value = incoming if incoming and _SANE_ID.match(incoming) else uuid.uuid4().hex
    return _request_id.set(value)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


def request_id_metadata() -> tuple[tuple[str, str], ...]:
    """The call metadata that hands the current request id to a service (empty without one)."""
    current = _request_id.get()
    return ((REQUEST_ID_KEY, current),) if current else ()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        current = _request_id.get()
        if current:
            entry["request_id"] = current
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging() -> None:
    """The process's root log handler, in the format ``RUNSTASH_LOG_FORMAT`` names."""
    if json_logs():
        handler = logging.StreamHandler()
        formatter = JsonFormatter()
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
        logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _code_of(context: grpc.ServicerContext, failed: bool) -> str:
    code = getattr(context, "code", None)
    found = code() if callable(code) else None
    if found is None:
        return "UNKNOWN" if failed else "OK"
    return str(found.name)


class _Call:
    """One RPC as observed: bound request id, then metrics and the RPC log line at its end."""

    def __init__(self, method: str, context: grpc.ServicerContext, access_log: bool) -> None:
        self.service, _, self.name = method.lstrip("/").rpartition("/")
        self.context = context
        self.access_log = access_log
        incoming = dict(context.invocation_metadata() or ()).get(REQUEST_ID_KEY)
        self.token = bind_request_id(incoming if isinstance(incoming, str) else None)
        self.started = time.perf_counter()

    def end(self, failed: bool) -> None:
        from runstash_protos.metrics import metrics

        elapsed = time.perf_counter() - self.started
        code = _code_of(self.context, failed)
        observed = metrics()
        if observed is not None:
            observed.grpc_requests.labels(self.service, self.name, code).inc()
            observed.grpc_latency.labels(self.service, self.name).observe(elapsed)
        if self.access_log:
            rpc_log.info("%s/%s %s %.1fms", self.service, self.name, code, elapsed * 1000)
        unbind_request_id(self.token)


def _unary(behavior: Callable[..., Any], method: str, access_log: bool) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        observed = _Call(method, context, access_log)
        failed = True
        try:
            result = behavior(request, context)
            failed = False
            return result
        finally:
            observed.end(failed)

    return call


def _stream(behavior: Callable[..., Iterator[Any]], method: str, access_log: bool) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        observed = _Call(method, context, access_log)
        failed = True
        try:
            yield from behavior(request, context)
            failed = False
        finally:
            observed.end(failed)

    return call


class TelemetryInterceptor(grpc.ServerInterceptor):
    """Request id from the call metadata, per-RPC metrics and log line (outside the error guard,
    so it sees the status the caller gets)."""

    def __init__(self, access_log: bool) -> None:
        self._access_log = access_log

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith("/grpc."):  # health checks and reflection
            return handler
        common = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        log = self._access_log
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(_unary(handler.unary_unary, method, log), **common)
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(_unary(handler.stream_unary, method, log), **common)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(_stream(handler.unary_stream, method, log), **common)
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                _stream(handler.stream_stream, method, log), **common
            )
        return handler


def server_interceptors() -> list[grpc.ServerInterceptor]:
    """The telemetry interceptor when metrics, JSON logs or the RPC log ask for it."""
    from runstash_protos.metrics import metrics_enabled

    access_log = parse_bool(os.environ.get(ACCESS_LOG_ENV), json_logs())
    if metrics_enabled() or json_logs() or access_log:
        return [TelemetryInterceptor(access_log)]
    return []
