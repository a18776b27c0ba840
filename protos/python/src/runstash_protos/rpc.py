"""The gRPC boundary of every runstash service: domain errors in, gRPC statuses out.

Servicers stay plain objects that raise :class:`~runstash_protos.errors.RunstashError`; this
interceptor is the one place where that becomes a gRPC status with the MLflow ``error_code`` in
trailing metadata. Anything else escaping a servicer is a bug: it is logged with its traceback and
reported as INTERNAL without leaking internals to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from runstash_protos.errors import ErrorCode, RunstashError, abort

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


def _guard_unary(behavior: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        except RunstashError as error:
            abort(context, error)
        except Exception as error:
            if _aborted(context):  # the servicer aborted by itself; keep its status
                raise
            if _caller_gone(error, context):
                log.info("%s: the caller went away", getattr(behavior, "__qualname__", behavior))
                raise
            log.exception("unexpected error in %s", getattr(behavior, "__qualname__", behavior))
            abort(context, _INTERNAL)

    return call


def _guard_stream(behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]]) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behavior(request, context)
        except RunstashError as error:
            abort(context, error)
        except Exception as error:
            if _aborted(context):
                raise
            if _caller_gone(error, context):
                log.info("%s: the caller went away", getattr(behavior, "__qualname__", behavior))
                raise
            log.exception("unexpected error in %s", getattr(behavior, "__qualname__", behavior))
            abort(context, _INTERNAL)

    return call


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
            return grpc.unary_unary_rpc_method_handler(_guard_unary(handler.unary_unary), **common)
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(_guard_unary(handler.stream_unary), **common)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(_guard_stream(handler.unary_stream), **common)
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(_guard_stream(handler.stream_stream), **common)
        return handler
