"""OTLP spans -> span rows and per-trace digests (pure functions, no database).

A digest holds what the server derives for a trace from the spans it received, as MLflow does on
ingest: times and status from the root span (a trace without its root span yet stays
IN_PROGRESS), previews and name from the root, session and user ids from ``session.id`` /
``gen_ai.conversation.id`` / ``user.id``, and tags from the root's ``mlflow.traceTag.*``
attributes. Token usage is summed over the spans that report it and have no ancestor reporting it,
so an autologger's roll-up on a parent is not added to its children's own counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import invalid_parameter

TRACE_ID_PREFIX = "tr-"
PREVIEW_CHARS = 1000
SPAN_TYPE = "mlflow.spanType"
INPUTS = "mlflow.spanInputs"
OUTPUTS = "mlflow.spanOutputs"
TOKEN_USAGE = "mlflow.chat.tokenUsage"
TRACE_TAG_PREFIX = "mlflow.traceTag."
SESSION_KEYS = ("session.id", "gen_ai.conversation.id")
USER_KEY = "user.id"
USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


@dataclass(slots=True)
class SpanRow:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    span_type: str | None
    status: str
    start_ns: int
    end_ns: int | None
    attributes: dict[str, str]
    content: bytes
    resource: dict[str, str] = field(default_factory=dict)
    # The root's inputs/outputs as sent (JSON text): MLflow's previews keep the JSON quoting.
    raw_inputs: str | None = None
    raw_outputs: str | None = None

    def row(self, experiment_id: int) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "experiment_id": experiment_id,
            "name": self.name[:500],
            "span_type": None if self.span_type is None else self.span_type[:500],
            "status": self.status,
            "start_time_ns": self.start_ns,
            "end_time_ns": self.end_ns,
            "attributes": self.attributes,
            "content": self.content,
        }


@dataclass(slots=True)
class Digest:
    """What a batch says about one trace."""

    trace_id: str
    start_ms: int
    end_ms: int | None
    root: SpanRow | None = None
    tags: dict[str, str] = field(default_factory=dict)
    resource_tags: dict[str, str] = field(default_factory=dict)
    session_id: str | None = None
    user_id: str | None = None
    has_usage: bool = False

    @property
    def state(self) -> str:
        if self.root is None:
            return "IN_PROGRESS"
        return "ERROR" if self.root.status == "ERROR" else "OK"


def trace_id_of(raw: bytes) -> str:
    return TRACE_ID_PREFIX + raw.hex()


def any_value(value: pb.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def flat_value(value: Any) -> str:
    """An attribute as the string filters compare: MLflow's JSON-encoded strings are unwrapped."""
    if isinstance(value, str):
        decoded = _json_or_missing(value)
        return decoded if isinstance(decoded, str) else value
    return json.dumps(value)


def decode_request(payload: bytes) -> list[SpanRow]:
    """A serialized ExportTraceServiceRequest -> its spans; a 400 if it is not one."""
    request = pb.ExportTraceServiceRequest()
    try:
        request.ParseFromString(payload)
    except DecodeError:
        raise invalid_parameter("The request body is not a valid OTLP ExportTraceServiceRequest.") from None
    rows: list[SpanRow] = []
    for resource_spans in request.resource_spans:
        resource = resource_tags(resource_spans.resource)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                row = _row(span)
                row.resource = resource
                rows.append(row)
    return rows


def resource_tags(resource: pb.Resource) -> dict[str, str]:
    """OTel resource attributes become trace tags, except the SDK's own and the reserved
    ``mlflow.*`` ones (a client must not overwrite bookkeeping tags that way)."""
    out = {}
    for kv in resource.attributes:
        if kv.key.startswith(("telemetry.sdk.", "mlflow.")):
            continue
        value = any_value(kv.value)
        out[kv.key] = value if isinstance(value, str) else json.dumps(value)
    return out


def _row(span: pb.Span) -> SpanRow:
    if len(span.trace_id) != 16 or len(span.span_id) != 8:
        raise invalid_parameter("Every span needs a 16-byte trace_id and an 8-byte span_id.")
    decoded, attributes = _typed_attributes(span)
    parent = span.parent_span_id.hex() if span.parent_span_id else None
    if parent is None:
        span.ClearField("parent_span_id")
    end = span.end_time_unix_nano or None
    return SpanRow(
        trace_id=trace_id_of(span.trace_id),
        span_id=span.span_id.hex(),
        parent_span_id=parent,
        name=span.name,
        span_type=attributes.get(SPAN_TYPE),
        status=_STATUS.get(span.status.code, "UNSET"),
        start_ns=span.start_time_unix_nano,
        end_ns=end,
        attributes=attributes,
        content=span.SerializeToString(),
        raw_inputs=_text(decoded.get(INPUTS)) if parent is None else None,
        raw_outputs=_text(decoded.get(OUTPUTS)) if parent is None else None,
    )


def _typed_attributes(span: pb.Span) -> tuple[dict[str, Any], dict[str, str]]:
    """One pass over the span's attributes: their values as sent, their flat strings (what filters
    compare), and the span rewritten the way MLflow serves it back (JSON-encoded strings, which is
    what the mlflow client sends, decoded into typed values). Each string is parsed once."""
    decoded: dict[str, Any] = {}
    flat: dict[str, str] = {}
    for kv in span.attributes:
        value = kv.value
        if value.WhichOneof("value") != "string_value":
            sent = any_value(value)
            decoded[kv.key] = sent
            flat[kv.key] = flat_value(sent)
            continue
        sent = value.string_value
        decoded[kv.key] = sent
        parsed = _json_or_missing(sent)
        if parsed is _MISSING:
            flat[kv.key] = sent
            continue
        flat[kv.key] = parsed if isinstance(parsed, str) else sent
        fill_any_value(value, parsed)
    return decoded, flat


_MISSING: Any = object()
# The characters a JSON text (as Python's json module reads it) can start with; any other string
# is plain text and skips the parser altogether (most attributes of non-MLflow OTel SDKs).
_JSON_START = frozenset('"{[-0123456789tfnNI \t\n\r')


def _json_or_missing(text: str) -> Any:
    """``text`` parsed as JSON, or _MISSING. orjson first (fast); Python's json for what orjson
    refuses but json accepts (NaN, Infinity, integers over 64 bits), so results do not change."""
    if not text or text[0] not in _JSON_START:
        return _MISSING
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return _MISSING


def fill_any_value(target: pb.AnyValue, value: Any) -> None:
    """``target`` set to ``value`` in place: the message to_any_value builds, without building
    and copying nested messages (keyword constructors and CopyFrom cost a few microseconds each,
    per attribute of every span on the ingest path)."""
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int) and -(2**63) <= value < 2**63:
        target.int_value = value
    elif isinstance(value, int | float):
        target.double_value = float(value)
    elif isinstance(value, dict):
        items = target.kvlist_value.values
        del items[:]
        target.kvlist_value.SetInParent()
        for key, item in value.items():
            kv = items.add()
            kv.key = str(key)
            fill_any_value(kv.value, item)
    elif isinstance(value, list):
        values = target.array_value.values
        del values[:]
        target.array_value.SetInParent()
        for item in value:
            fill_any_value(values.add(), item)
    elif value is None:
        target.Clear()
    else:
        target.string_value = str(value)


def to_any_value(value: Any) -> pb.AnyValue:
    if value is None:
        return pb.AnyValue()
    if isinstance(value, bool):
        return pb.AnyValue(bool_value=value)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return pb.AnyValue(int_value=value)
    if isinstance(value, int | float):
        return pb.AnyValue(double_value=float(value))
    if isinstance(value, str):
        return pb.AnyValue(string_value=value)
    if isinstance(value, list):
        return pb.AnyValue(array_value=pb.ArrayValue(values=[to_any_value(v) for v in value]))
    if isinstance(value, dict):
        items = [pb.KeyValue(key=str(k), value=to_any_value(v)) for k, v in value.items()]
        return pb.AnyValue(kvlist_value=pb.KeyValueList(values=items))
    return pb.AnyValue(string_value=str(value))


def _text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


def digest(rows: Iterable[SpanRow]) -> dict[str, Digest]:
    digests: dict[str, Digest] = {}
    for row in rows:
        start_ms = row.start_ns // 1_000_000
        end_ms = None if row.end_ns is None else row.end_ns // 1_000_000
        d = digests.get(row.trace_id)
        if d is None:
            d = digests[row.trace_id] = Digest(row.trace_id, start_ms, end_ms)
        else:
            d.start_ms = min(d.start_ms, start_ms)
            if end_ms is not None:
                d.end_ms = end_ms if d.end_ms is None else max(d.end_ms, end_ms)
        attributes = row.attributes
        if not d.resource_tags and row.resource:
            d.resource_tags = row.resource
        if d.session_id is None:
            d.session_id = next((attributes[k] for k in SESSION_KEYS if attributes.get(k)), None)
        if d.user_id is None and attributes.get(USER_KEY):
            d.user_id = attributes[USER_KEY]
        if TOKEN_USAGE in attributes:
            d.has_usage = True
        if row.parent_span_id is None:
            d.root = row
            for key, value in attributes.items():
                if key.startswith(TRACE_TAG_PREFIX) and len(key) > len(TRACE_TAG_PREFIX):
                    d.tags[key[len(TRACE_TAG_PREFIX) :]] = value
    return digests


def preview(value: str | None) -> str | None:
    if value is None or len(value) <= PREVIEW_CHARS:
        return value
    return value[: PREVIEW_CHARS - 3] + "..."


def _usage_of(attributes: Mapping[str, Any] | None) -> dict[str, int] | None:
    raw = (attributes or {}).get(TOKEN_USAGE)
    if raw is None:
        return None
    try:
        usage = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(usage, dict):
        return None
    return {k: int(usage[k]) for k in USAGE_KEYS if isinstance(usage.get(k), int | float)}


def aggregate_usage(nodes: Iterable[tuple[str, str | None, Mapping[str, Any] | None]]) -> dict[str, int]:
    """(span id, parent id, attributes) of every span of a trace -> its token usage, counting a
    span only when no ancestor reports usage."""
    parents: dict[str, str | None] = {}
    usage: dict[str, dict[str, int]] = {}
    for span_id, parent_id, attributes in nodes:
        parents[span_id] = parent_id
        found = _usage_of(attributes)
        if found is not None:
            usage[span_id] = found
    total = dict.fromkeys(USAGE_KEYS, 0)
    for span_id, counts in usage.items():
        ancestor, seen = parents.get(span_id), {span_id}
        while ancestor is not None and ancestor not in usage and ancestor not in seen:
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
        if ancestor is not None and ancestor in usage:
            continue
        for key, value in counts.items():
            total[key] += value
    return total if usage else {}
