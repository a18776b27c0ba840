"""One field's parse and render recipe, fixed at start-up (see :mod:`.transcoder`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import FieldDescriptor

from .scalars import (
    _FD,
    _INT_BOUNDS,
    Converter,
    _BadValue,
    _camel,
    _conv_bool,
    _conv_bytes,
    _conv_double,
    _conv_string,
    _make_enum_conv,
    _make_int_conv,
    _q_bool,
    _q_bytes,
    _q_string,
    _render_bytes,
    _render_double,
    _Skip,
)

if TYPE_CHECKING:
    from .transcoder import CodecRegistry, MessageCodec

_VALUE = "google.protobuf.Value"


def _conv_value(value_class: Any, value: Any) -> Any:
    from google.protobuf import json_format

    return json_format.ParseDict(value, value_class())


def _render_value(value: Any) -> Any:
    from google.protobuf import json_format

    return json_format.MessageToDict(value)


class _Field:
    """One field's parse and render recipe, fixed at start-up."""

    __slots__ = (
        "codec",
        "convert",
        "direct",
        "is_int64",
        "is_map",
        "is_message",
        "is_repeated",
        "json_name",
        "kind",
        "map_key",
        "map_value",
        "name",
        "number",
        "query_convert",
        "render",
    )

    def __init__(self, field: FieldDescriptor, registry: CodecRegistry) -> None:
        self.name = field.name
        self.json_name = _camel(field.name)
        self.number = field.number
        self.is_repeated = field.is_repeated
        self.is_message = field.cpp_type == _FD.CPPTYPE_MESSAGE
        message_type = field.message_type
        self.is_map = bool(
            self.is_message and message_type is not None and message_type.GetOptions().map_entry
        )
        self.codec: MessageCodec | None = None
        self.map_key: _Field | None = None
        self.map_value: _Field | None = None
        self.convert: Converter | None = None
        self.query_convert: Converter | None = None
        self.render: Callable[[Any], Any] | None = None
        self.is_int64 = False
        self.direct: Converter | None = None
        self.kind = 2
        if self.is_map:
            assert message_type is not None
            self.map_key = _Field(message_type.fields_by_name["key"], registry)
            self.map_value = _Field(message_type.fields_by_name["value"], registry)
        elif self.is_message and message_type is not None and message_type.full_name == _VALUE:
            # google.protobuf.Value (assessment values) is any JSON value, in and out; built as the
            # backend's own class (split deployments make theirs from reflected descriptors).
            value_class = registry.codec_for_descriptor(message_type).message_class
            self.convert, self.render = functools.partial(_conv_value, value_class), _render_value
        elif self.is_message:
            assert message_type is not None
            self.codec = registry.codec_for_descriptor(message_type)
        else:
            self._scalar(field)
        # Hot-path shortcuts: 0 = plain scalar rendered as is, 1 = scalar with a renderer, 2 = other.
        self.direct = self.convert if not (self.is_repeated or self.is_message) else None
        if self.is_repeated or self.is_message:
            self.kind = 2
        else:
            self.kind = 0 if self.render is None else 1

    def _scalar(self, field: FieldDescriptor) -> None:
        cpp = field.cpp_type
        if cpp == _FD.CPPTYPE_STRING:
            if field.type == _FD.TYPE_BYTES:
                self.convert, self.query_convert, self.render = _conv_bytes, _q_bytes, _render_bytes
            else:
                self.convert, self.query_convert = _conv_string, _q_string
        elif cpp in _INT_BOUNDS:
            self.convert = self.query_convert = _make_int_conv(cpp)
            self.is_int64 = cpp == _FD.CPPTYPE_INT64
        elif cpp in (_FD.CPPTYPE_DOUBLE, _FD.CPPTYPE_FLOAT):
            self.convert = self.query_convert = _conv_double
            self.render = _render_double
        elif cpp == _FD.CPPTYPE_BOOL:
            self.convert, self.query_convert = _conv_bool, _q_bool
        elif cpp == _FD.CPPTYPE_ENUM:
            self.convert = self.query_convert = _make_enum_conv(field)
            enum_type = field.enum_type
            assert enum_type is not None
            names = {v.number: v.name for v in enum_type.values}
            self.render = lambda number: names.get(number, number)
        else:  # pragma: no cover - every proto scalar kind is listed above
            raise TypeError(f"unsupported field type for {field.full_name}")

    # -- parsing

    def parse_json(self, value: Any) -> Any:
        """A JSON value for this field -> a constructor argument (kwargs dict for messages)."""
        if self.is_map:
            return self._parse_map(value)
        if self.is_repeated:
            if type(value) is not list:
                raise _BadValue(value)
            return self._parse_list(value)
        return self._parse_single(value)

    def _parse_single(self, value: Any) -> Any:
        codec = self.codec
        if codec is not None:
            if type(value) is not dict:
                raise _BadValue(value)
            return codec.kwargs_from_json(value, strict=False)
        assert self.convert is not None
        return self.convert(value)

    def _parse_list(self, values: list[Any]) -> list[Any]:
        codec = self.codec
        out: list[Any] = []
        append = out.append
        if codec is not None:
            # Inside list items MLflow's parse is lenient: a non-object item becomes an empty
            # message and a mistyped field is dropped; the service's validation judges the rest.
            parse = codec.kwargs_from_json
            for item in values:
                append(parse(item, strict=False) if type(item) is dict else {})
            return out
        convert = self.convert
        assert convert is not None
        try:
            for item in values:
                try:
                    append(convert(item))
                except _Skip:
                    continue
        except _BadValue:
            raise _BadValue(values) from None  # reported as the whole list, like MLflow's check
        return out

    def _parse_map(self, value: Any) -> dict[Any, Any]:
        if type(value) is not dict:
            raise _BadValue(value)
        key_field, value_field = self.map_key, self.map_value
        assert key_field is not None and value_field is not None
        out: dict[Any, Any] = {}
        for raw_key, raw_value in value.items():
            key = raw_key if key_field.convert is _conv_string else self._map_key(key_field, raw_key)
            try:
                out[key] = value_field._parse_single(raw_value)
            except _Skip:
                continue
            except _BadValue as bad:
                bad.path.insert(0, f"[{raw_key}]")
                raise
        return out

    @staticmethod
    def _map_key(key_field: _Field, raw_key: str) -> Any:
        if key_field.convert is _conv_bool:
            return _q_bool(raw_key)
        assert key_field.convert is not None
        return key_field.convert(raw_key)

    def parse_query(self, values: list[str]) -> Any:
        """Query-string values (all occurrences of the key) -> a constructor argument."""
        convert = self.query_convert
        assert convert is not None
        if self.is_repeated:
            out = []
            for item in values:
                try:
                    out.append(convert(item))
                except _Skip:
                    continue
            return out
        return convert(values[0])

    def passthrough(self) -> type | None:
        """The one Python type a JSON value of this field may have to be taken unchanged."""
        if self.is_repeated or self.is_message:
            return None
        convert = self.convert
        if convert is _conv_string:
            return str
        if convert is _conv_double:
            return float
        if convert is _conv_bool:
            return bool
        if self.is_int64:
            # JSON decoders only produce 64-bit ints here; the constructor still range-checks.
            return int
        return None

    # -- rendering

    def renderer(self) -> Callable[[Any], Any] | None:
        """How a set value of this field becomes JSON; None = the value as is."""
        if self.kind == 0:
            return None
        if self.kind == 1:
            return self.render
        return self.render_value

    def render_value(self, value: Any) -> Any:
        if self.is_map:
            return self._render_map(value)
        codec = self.codec
        if self.is_repeated:
            if codec is not None:
                render_message = codec.to_dict
                return [render_message(item) for item in value]
            render = self.render
            return list(value) if render is None else [render(item) for item in value]
        if codec is not None:
            return codec.to_dict(value)
        render = self.render
        return value if render is None else render(value)

    def _render_map(self, value: Any) -> dict[str, Any]:
        value_field = self.map_value
        assert value_field is not None
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if type(key) is str else (str(key).lower() if type(key) is bool else str(key))
            out[name] = value_field.render_value(item)
        return out
