"""Errors are part of the contract: one domain error, one gRPC status, one MLflow error_code + HTTP status.

Services raise :class:`RunstashError`. Over gRPC it travels as a status code plus the MLflow
``error_code`` in trailing metadata; :func:`from_rpc_error` turns it back into the same exception, so
callers (the gateway, the Python client) see one exception type whether the servicer ran in-process or
across the network. The one table below is the only place codes are mapped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc

ERROR_CODE_METADATA_KEY = "x-mlflow-error-code"


class ErrorCode(enum.StrEnum):
    INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
    BAD_REQUEST = "BAD_REQUEST"
    RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
    RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
    ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
    REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    INVALID_STATE = "INVALID_STATE"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


@dataclass(frozen=True, slots=True)
class _Mapping:
    grpc_status: grpc.StatusCode
    http_status: int
    error_class: str | None
    sqlstate: str | None


_TABLE: dict[ErrorCode, _Mapping] = {
    ErrorCode.INVALID_PARAMETER_VALUE: _Mapping(
        grpc.StatusCode.INVALID_ARGUMENT, 400, "INVALID_PARAMETER_VALUE", "KAM00"
    ),
    ErrorCode.BAD_REQUEST: _Mapping(
        grpc.StatusCode.INVALID_ARGUMENT, 400, "INVALID_PARAMETER_VALUE", "KAM00"
    ),
    ErrorCode.RESOURCE_ALREADY_EXISTS: _Mapping(
        grpc.StatusCode.ALREADY_EXISTS, 400, "RESOURCE_ALREADY_EXISTS", "KAM00"
    ),
    ErrorCode.RESOURCE_DOES_NOT_EXIST: _Mapping(
        grpc.StatusCode.NOT_FOUND, 404, "RESOURCE_NOT_FOUND", "KAM00"
    ),
    ErrorCode.ENDPOINT_NOT_FOUND: _Mapping(grpc.StatusCode.UNIMPLEMENTED, 404, "RESOURCE_NOT_FOUND", "KAM00"),
    ErrorCode.PERMISSION_DENIED: _Mapping(
        grpc.StatusCode.PERMISSION_DENIED, 403, "PERMISSION_DENIED", "KAM00"
    ),
    ErrorCode.UNAUTHENTICATED: _Mapping(grpc.StatusCode.UNAUTHENTICATED, 401, None, None),
    ErrorCode.RESOURCE_CONFLICT: _Mapping(grpc.StatusCode.ABORTED, 409, None, None),
    ErrorCode.REQUEST_LIMIT_EXCEEDED: _Mapping(grpc.StatusCode.RESOURCE_EXHAUSTED, 429, None, None),
    ErrorCode.INTERNAL_ERROR: _Mapping(grpc.StatusCode.INTERNAL, 500, "CLIENT_INTERNAL_ERROR", "XXM00"),
    ErrorCode.INVALID_STATE: _Mapping(
        grpc.StatusCode.FAILED_PRECONDITION, 500, "CLIENT_INTERNAL_ERROR", "XXM00"
    ),
    ErrorCode.NOT_IMPLEMENTED: _Mapping(grpc.StatusCode.UNIMPLEMENTED, 501, None, None),
    ErrorCode.TEMPORARILY_UNAVAILABLE: _Mapping(
        grpc.StatusCode.UNAVAILABLE, 503, "CLIENT_INTERNAL_ERROR", "XXM00"
    ),
    ErrorCode.DEADLINE_EXCEEDED: _Mapping(grpc.StatusCode.DEADLINE_EXCEEDED, 504, None, None),
}

# A gRPC failure that carries no MLflow code (transport trouble, a crash) still needs one.
_FROM_GRPC_STATUS: dict[grpc.StatusCode, ErrorCode] = {
    grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.INVALID_PARAMETER_VALUE,
    grpc.StatusCode.NOT_FOUND: ErrorCode.RESOURCE_DOES_NOT_EXIST,
    grpc.StatusCode.ALREADY_EXISTS: ErrorCode.RESOURCE_ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED: ErrorCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED: ErrorCode.UNAUTHENTICATED,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ErrorCode.REQUEST_LIMIT_EXCEEDED,
    grpc.StatusCode.FAILED_PRECONDITION: ErrorCode.INVALID_STATE,
    grpc.StatusCode.ABORTED: ErrorCode.RESOURCE_CONFLICT,
    grpc.StatusCode.UNIMPLEMENTED: ErrorCode.NOT_IMPLEMENTED,
    grpc.StatusCode.UNAVAILABLE: ErrorCode.TEMPORARILY_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ErrorCode.DEADLINE_EXCEEDED,
}


class RunstashError(Exception):
    """A domain error with its MLflow error_code; the one exception type every layer speaks."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def grpc_status(self) -> grpc.StatusCode:
        return _TABLE[self.code].grpc_status

    @property
    def http_status(self) -> int:
        return _TABLE[self.code].http_status

    def to_json(self) -> dict[str, Any]:
        """MLflow's error body: ``{"error_code", "message"}`` plus the 3.x optional fields."""
        body: dict[str, Any] = {"error_code": self.code.value, "message": self.message}
        mapping = _TABLE[self.code]
        if mapping.sqlstate is not None:
            body["sqlstate"] = mapping.sqlstate
        if mapping.error_class is not None:
            body["error_class"] = mapping.error_class
        return body

    def __repr__(self) -> str:
        return f"RunstashError({self.code.value}, {self.message!r})"


def invalid_parameter(message: str) -> RunstashError:
    return RunstashError(ErrorCode.INVALID_PARAMETER_VALUE, message)


def not_found(message: str) -> RunstashError:
    return RunstashError(ErrorCode.RESOURCE_DOES_NOT_EXIST, message)


def already_exists(message: str) -> RunstashError:
    return RunstashError(ErrorCode.RESOURCE_ALREADY_EXISTS, message)


def trailing_metadata(error: RunstashError) -> tuple[tuple[str, str | bytes], ...]:
    return ((ERROR_CODE_METADATA_KEY, error.code.value),)


def abort(context: grpc.ServicerContext, error: RunstashError) -> NoReturn:
    """End a gRPC call with ``error``: status code, message and the MLflow code in trailing metadata."""
    context.set_trailing_metadata(trailing_metadata(error))
    context.abort(error.grpc_status, error.message)
    raise AssertionError("context.abort returned")  # pragma: no cover - abort always raises


def from_rpc_error(error: grpc.RpcError) -> RunstashError:
    """Turn a failed gRPC call back into the domain error it carried (or the closest one)."""
    code_fn = getattr(error, "code", None)
    status = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    details_fn = getattr(error, "details", None)
    message = (details_fn() if callable(details_fn) else None) or str(status)
    trailing_fn = getattr(error, "trailing_metadata", None)
    for key, value in (trailing_fn() if callable(trailing_fn) else None) or ():
        if key == ERROR_CODE_METADATA_KEY:
            try:
                return RunstashError(ErrorCode(value), message)
            except ValueError:
                break
    return RunstashError(_FROM_GRPC_STATUS.get(status, ErrorCode.INTERNAL_ERROR), message)
