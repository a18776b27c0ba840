"""JSON <-> protobuf with MLflow's wire conventions, driven by message descriptors.

Not ``google.protobuf.json_format``: it renders int64 as strings and is several times slower. Each
message type gets a :class:`MessageCodec` built once at start-up (per-field tables, converters chosen
up front); the hot path is a dict walk plus one C-level message constructor call.

Parsing (requests, mlflow-rest.md §2.2): snake_case and lowerCamelCase keys, unknown keys ignored,
``null`` means "not given", int64 from numbers or numeric strings, doubles from numbers, numeric
strings and "NaN"/"Infinity"/"-Infinity", enums by name or number (an unknown enum value is dropped,
as MLflow's lenient parse does), type errors -> 400 INVALID_PARAMETER_VALUE with MLflow's message.

Rendering (responses, §2.3): proto2 presence (a field is emitted iff set, even to its default; empty
repeated fields are omitted; a set-but-empty sub-message is ``{}``), snake_case names, int64 as JSON
numbers, NaN/±Infinity as strings, enums by name, maps as objects, bytes as base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
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


class MessageCodec:
    """Parse and render one message type; built once per type (see :class:`CodecRegistry`)."""

    __slots__ = (
        "_by_key",
        "_by_number",
        "_parse_table",
        "_render_table",
        "descriptor",
        "message_class",
    )

    def __init__(self, message_class: type[Message]) -> None:
        # The class's own descriptor: ListFields() hands back its field descriptors.
        self.descriptor: Descriptor = cast(Descriptor, message_class.DESCRIPTOR)
        self.message_class = message_class
        self._by_key: dict[str, _Field] = {}
        self._by_number: dict[int, _Field] = {}
        # JSON key (either spelling) -> (field name, a type accepted as is, converter).
        self._parse_table: dict[str, tuple[str, type | None, Converter]] = {}
        # Keyed by the class's own field descriptors (what ListFields returns): no attribute reads.
        self._render_table: dict[FieldDescriptor, tuple[str, Callable[[Any], Any] | None]] = {}

    def _populate(self, registry: CodecRegistry) -> None:
        for field in self.descriptor.fields:
            entry = _Field(field, registry)
            self._by_key[entry.name] = entry
            self._by_number[entry.number] = entry
            self._render_table[field] = (entry.name, entry.renderer())
            if entry.json_name != entry.name:
                self._by_key[entry.json_name] = entry
        for key, entry in self._by_key.items():
            self._parse_table[key] = (entry.name, entry.passthrough(), entry.direct or entry.parse_json)

    def field(self, name: str) -> _Field | None:
        return self._by_key.get(name)

    # -- JSON -> message

    def kwargs_from_json(self, obj: dict[str, Any], strict: bool = True) -> dict[str, Any]:
        """A decoded JSON object -> constructor kwargs (nested messages as nested kwargs dicts).

        ``strict``: a mistyped field is a 400 (top level: MLflow's endpoint schemas check these);
        otherwise it is dropped (nested messages: MLflow keeps whatever parsed).
        """
        out: dict[str, Any] = {}
        table = self._parse_table
        for key, value in obj.items():
            recipe = table.get(key)
            if recipe is None or value is None:
                continue
            name, passthrough, convert = recipe
            if name in out:
                raise _both_spellings(name, _camel(name))
            if type(value) is passthrough:
                out[name] = value
                continue
            try:
                out[name] = convert(value)
            except _Skip:
                continue
            except _BadValue as bad:
                if not strict:
                    continue
                bad.path.insert(0, "." + name)
                raise
        return out

    def kwargs_from_query(self, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """GET query pairs -> kwargs; repeated keys collect, message-typed fields are never on GET."""
        grouped: dict[str, list[str]] = {}
        spelled: dict[str, str] = {}
        for key, value in pairs:
            entry = self._by_key.get(key)
            if entry is None or entry.is_message:
                continue
            previous = spelled.setdefault(entry.name, key)
            if previous != key:
                raise _both_spellings(entry.name, entry.json_name)
            grouped.setdefault(entry.name, []).append(value)
        out: dict[str, Any] = {}
        for name, values in grouped.items():
            try:
                out[name] = self._by_key[name].parse_query(values)
            except _Skip:
                continue
            except _BadValue as bad:
                bad.path.insert(0, name)
                raise
        return out

    def set_path_value(self, kwargs: dict[str, Any], field_path: str, raw: str) -> None:
        """Bind a path-template variable (``model_id``, ``info.run_id``) into ``kwargs``."""
        codec: MessageCodec = self
        target = kwargs
        *parents, leaf = field_path.split(".")
        for part in parents:
            entry = codec._by_key.get(part)
            if entry is None or entry.codec is None or entry.is_repeated:
                raise invalid_parameter(f"Path variable '{field_path}' does not name a field")
            nested = target.get(part)
            if not isinstance(nested, dict):
                nested = target[part] = {}
            target, codec = nested, entry.codec
        entry = codec._by_key.get(leaf)
        if entry is None or entry.is_message:
            raise invalid_parameter(f"Path variable '{field_path}' does not name a scalar field")
        try:
            value = entry.parse_query([raw])
        except _BadValue as bad:
            bad.path.insert(0, field_path)
            raise bad.to_error() from None
        except _Skip:
            return
        target[entry.name] = value

    def build(self, kwargs: dict[str, Any]) -> Message:
        try:
            return self.message_class(**kwargs)
        except (TypeError, ValueError) as exc:  # out-of-range values the converters let through
            raise invalid_parameter(f"Invalid request: {exc}") from None

    def parse_json(self, obj: dict[str, Any]) -> Message:
        return self.build(self.checked_kwargs(obj))

    def checked_kwargs(self, obj: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.kwargs_from_json(obj)
        except _BadValue as bad:
            raise bad.to_error() from None

    def checked_query_kwargs(self, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
        try:
            return self.kwargs_from_query(pairs)
        except _BadValue as bad:
            raise bad.to_error() from None

    # -- message -> JSON

    def to_dict(self, message: Message) -> dict[str, Any]:
        out: dict[str, Any] = {}
        table = self._render_table
        for field, value in message.ListFields():
            recipe = table.get(field)
            if recipe is None:
                recipe = self._recipe_for(field)
                if recipe is None:  # an extension: not part of the REST shape
                    continue
            name, render = recipe
            out[name] = value if render is None else render(value)
        return out

    def render_json(self, message: Message, stream_above: int) -> bytes | Iterator[bytes]:
        """The JSON body: bytes, or pieces when a repeated message field holds more than
        ``stream_above`` items (a million-point metric history is rendered a batch at a time
        instead of as a million dicts at once)."""
        for field, value in message.ListFields():
            if field.is_repeated and field.cpp_type == _FD.CPPTYPE_MESSAGE and len(value) > stream_above:
                return self._render_pieces(message, stream_above)
        return orjson.dumps(self.to_dict(message))

    def _render_pieces(self, message: Message, batch: int) -> Iterator[bytes]:
        table = self._by_number
        separator = b"{"
        for field, value in message.ListFields():
            entry = table.get(field.number)
            if entry is None:
                continue
            head = separator + orjson.dumps(entry.name) + b":"
            separator = b","
            if entry.codec is not None and entry.is_repeated and not entry.is_map:
                render = entry.codec.to_dict
                yield head + b"["
                for start in range(0, len(value), batch):
                    items = orjson.dumps([render(item) for item in value[start : start + batch]])
                    yield (b"," if start else b"") + items[1:-1]
                yield b"]"
            else:
                yield head + orjson.dumps(entry.render_value(value))
        yield b"{}" if separator == b"{" else b"}"

    def _recipe_for(self, field: FieldDescriptor) -> tuple[str, Callable[[Any], Any] | None] | None:
        """Fields of an equal message type from another pool: match by number."""
        entry = self._by_number.get(field.number)
        owner = field.containing_type
        if entry is None or owner is None or owner.full_name != self.descriptor.full_name:
            return None
        return entry.name, entry.renderer()


class CodecRegistry:
    """One codec per message type; recursive types resolve through the registry."""

    def __init__(self, class_for: Callable[[Descriptor], type[Message]]) -> None:
        self._class_for = class_for
        self._codecs: dict[str, MessageCodec] = {}

    def codec(self, message_class: type[Message]) -> MessageCodec:
        return self.codec_for_descriptor(cast(Descriptor, message_class.DESCRIPTOR))

    def codec_for_descriptor(self, descriptor: Descriptor) -> MessageCodec:
        found = self._codecs.get(descriptor.full_name)
        if found is not None:
            return found
        codec = MessageCodec(self._class_for(descriptor))
        self._codecs[descriptor.full_name] = codec  # before populating: recursion terminates
        codec._populate(self)
        return codec
