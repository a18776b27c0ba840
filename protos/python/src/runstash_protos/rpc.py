"""The error boundary of every runstash servicer: domain errors in, gRPC statuses out.

Servicers stay plain objects that raise :class:`~runstash_protos.errors.RunstashError`; the guards
here are the one place where that becomes a gRPC status with the MLflow ``error_code`` in trailing
metadata. Anything else escaping a servicer is a bug: it is logged with its traceback and reported
as INTERNAL without leaking internals to the caller. The gRPC servers apply them through
:class:`ErrorInterceptor`; the gateway's in-process backend wraps each servicer method with
:func:`guard` itself, so both deployments answer the same bug the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

import grpc

from runstash_protos.authz import check_declared
from runstash_protos.errors import ErrorCode, RunstashError, abort
from runstash_protos.telemetry import server_interceptors
from runstash_protos.transport import bind_port

log = logging.getLogger("runstash.rpc")

_INTERNAL = RunstashError(ErrorCode.INTERNAL_ERROR, "Internal error; see the server log.")


def _aborted(context: grpc.ServicerContext) -> bool:
    code = getattr(context, "code", None)
    return callable(code) and code() is not None


def _caller_gone(error: Exception, context: grpc.ServicerContext) -> bool:
    """The caller cancelled (e.g. an HTTP client left mid-upload): nothing to report, no bug."""
    if not context.is_active():
        return True
    code = getattr(error, "code", None)
    return isinstance(error, grpc.RpcError) and callable(code) and code() is grpc.StatusCode.CANCELLED


def _unexpected(error: Exception, context: grpc.ServicerContext, behavior: object) -> NoReturn:
    """Anything but a RunstashError: re-raise what needs no report, else log it and end INTERNAL."""
    name = getattr(behavior, "__qualname__", behavior)
    if _aborted(context):  # the servicer aborted by itself; keep its status
        raise error
    if _caller_gone(error, context):
        log.info("%s: the caller went away", name)
        raise error
    log.exception("unexpected error in %s", name, exc_info=error)
    abort(context, _INTERNAL)


def guard_unary(behavior: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        except RunstashError as error:
            abort(context, error)
        except Exception as error:
            _unexpected(error, context, behavior)

    return call


def guard_stream(behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]]) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behavior(request, context)
        except RunstashError as error:
            abort(context, error)
        except Exception as error:
            _unexpected(error, context, behavior)

    return call


def guard(behavior: Callable[..., Any], *, server_streaming: bool) -> Callable[..., Any]:
    """The boundary around one servicer method (streaming responses guarded while iterated)."""
    return guard_stream(behavior) if server_streaming else guard_unary(behavior)


class ErrorInterceptor(grpc.ServerInterceptor):
    """Maps RunstashError (and unexpected exceptions) raised by servicers to gRPC statuses."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        common = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(guard_unary(handler.unary_unary), **common)
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(guard_unary(handler.stream_unary), **common)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(guard_stream(handler.unary_stream), **common)
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(guard_stream(handler.stream_stream), **common)
        return handler


# gRPC's 4 MiB default is below a log-batch of 1000 metrics with long keys.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

Registration = tuple[str, Callable[[grpc.Server], None]]


def service_server(
    services: Sequence[Registration],
    address: str,
    *,
    max_workers: int = 32,
    thread_name_prefix: str = "rpc",
) -> tuple[grpc.Server, int]:
    """A gRPC server (bound, not started) as every runstash service runs: the error interceptor,
    health checking (SERVING for "" and each service) and server reflection, which the gateway
    builds its routes from. ``services`` pairs each full service name with the generated
    ``add_…Servicer_to_server`` call for it. Returns the server and the bound port."""
    from concurrent import futures

    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=thread_name_prefix),
        interceptors=[*server_interceptors(), ErrorInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # A second server on a taken port must fail, not silently share it.
            ("grpc.so_reuseport", 0),
        ],
    )
    names = [name for name, _ in services]
    check_declared(names)  # deny by default: an RPC without a declared permission never serves
    for _, register in services:
        register(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection((*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = bind_port(server, address)  # TLS when configured
    if port == 0:
        raise RuntimeError(f"could not bind {', '.join(names)} to {address}")
    return server, port
