"""Scalar values between JSON and protobuf with MLflow's conventions: converters (parse),
renderers, and the 400 a mistyped value gets."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from runstash_protos.errors import RunstashError, invalid_parameter

_FD = FieldDescriptor

_INT_BOUNDS = {
    _FD.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    _FD.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    _FD.CPPTYPE_UINT32: (0, 2**32 - 1),
    _FD.CPPTYPE_UINT64: (0, 2**64 - 1),
}

_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _Skip(Exception):
    """A value MLflow's lenient parse silently drops (an enum name it does not know)."""


class _BadValue(Exception):
    """A value of the wrong JSON type; ``path`` is filled in on the way up (``metrics[0].value``)."""

    def __init__(self, value: Any, message: str | None = None) -> None:
        super().__init__()
        self.value = value
        self.message = message
        self.path: list[str] = []

    def to_error(self) -> RunstashError:
        if self.message is not None:
            return invalid_parameter(self.message)
        where = "".join(self.path).lstrip(".")
        rendered = json.dumps(self.value, sort_keys=True, separators=(",", ":"))
        return invalid_parameter(
            # Two spaces after "supplied:", as the real server writes it.
            f"Invalid value {rendered} for parameter '{where}' supplied:  Hint: Value was of type "
            f"'{type(self.value).__name__}'. See the API docs for more information about request parameters."
        )


def _both_spellings(snake: str, camel: str) -> RunstashError:
    return invalid_parameter(f"Request specifies both '{snake}' and '{camel}'; provide only one of them.")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# ---------------------------------------------------------------- scalar converters (JSON values)

Converter = Callable[[Any], Any]


def _conv_string(value: Any) -> Any:
    if type(value) is str:
        return value
    raise _BadValue(value)


def _conv_bytes(value: Any) -> Any:
    if type(value) is not str:
        raise _BadValue(value)
    try:
        padded = value + "=" * (-len(value) % 4)
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise _BadValue(value) from None


def _conv_bool(value: Any) -> Any:
    if value is True or value is False:
        return value
    raise _BadValue(value)


def _make_int_conv(cpp_type: int) -> Converter:
    low, high = _INT_BOUNDS[cpp_type]

    def conv(value: Any) -> Any:
        kind = type(value)
        if kind is int:
            result = value
        elif kind is str:
            try:
                result = int(value)
            except ValueError:
                try:
                    as_float = float(value)
                except ValueError:
                    raise _BadValue(value) from None
                if not as_float.is_integer():
                    raise _BadValue(value) from None
                result = int(as_float)
        elif kind is float and value.is_integer():
            result = int(value)
        else:
            raise _BadValue(value)
        if result < low or result > high:
            raise _BadValue(value)
        return result

    return conv


def _conv_double(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if kind is str:
        special = _SPECIAL_DOUBLES.get(value)
        if special is not None:
            return special
        try:
            result = float(value)
        except ValueError:
            raise _BadValue(value) from None
        if not math.isfinite(result):  # "nan"/"inf" spellings are not proto-JSON
            raise _BadValue(value)
        return result
    raise _BadValue(value)


def _make_enum_conv(field: FieldDescriptor) -> Converter:
    enum_type = field.enum_type
    assert enum_type is not None
    by_name = {v.name: v.number for v in enum_type.values}
    numbers = frozenset(by_name.values())

    def conv(value: Any) -> Any:
        kind = type(value)
        if kind is str:
            number = by_name.get(value)
            if number is not None:
                return number
            if value.isdigit() and int(value) in numbers:  # "3", as protobuf's JSON parser allows
                return int(value)
        elif kind is int:
            if value in numbers:
                return value
            raise _BadValue(value)  # MLflow rejects unknown numbers but drops unknown names
        raise _Skip

    return conv


# ---------------------------------------------------------------- scalar converters (query strings)


def _q_string(value: str) -> Any:
    return value


def _q_bool(value: str) -> Any:
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise _BadValue(value, f"Invalid boolean value: {value}, must be 'true' or 'false'.")


def _q_bytes(value: str) -> Any:
    return _conv_bytes(value)


# ---------------------------------------------------------------- renderers (protobuf -> JSON values)


def _render_double(value: float) -> Any:
    if value - value == 0.0:  # finite; NaN and ±inf give NaN here
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _render_bytes(value: bytes) -> Any:
    return base64.b64encode(value).decode("ascii")
