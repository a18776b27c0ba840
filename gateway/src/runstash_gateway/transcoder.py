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

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from runstash_protos.errors import invalid_parameter

from .fields import _Field
from .scalars import (
    _FD,
    Converter,
    _BadValue,
    _both_spellings,
    _camel,
    _Skip,
)

# MLflow's auth endpoints are Flask handlers returning dicts, not protobuf JSON: their lists are
# present even when empty, and the stock auth client indexes them directly (``resp["roles"]``).
ALWAYS_LISTS_PACKAGES = ("runstash.auth.",)


class MessageCodec:
    """Parse and render one message type; built once per type (see :class:`CodecRegistry`)."""

    __slots__ = (
        "_always_lists",
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
        # JSON keys of lists rendered even when empty (see ALWAYS_LISTS_PACKAGES).
        self._always_lists: tuple[str, ...] = ()

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
        if self.descriptor.full_name.startswith(ALWAYS_LISTS_PACKAGES):
            self._always_lists = tuple(
                entry.name for entry in self._by_number.values() if entry.is_repeated and not entry.is_map
            )

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
        for name in self._always_lists:
            out.setdefault(name, [])
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
