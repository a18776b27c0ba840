"""The UI's trace artifact (``get-trace-artifact``): a trace's spans as MLflow's ``traces.json``
(``{"spans": [Span.to_dict(), ...]}``), rendered span by span so a large trace is streamed."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import Any

from runstash_protos import traces_pb2 as pb

from runstash_metadata.tracing.spans import any_value

CHUNK_BYTES = 256 * 1024
_STATUS = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _attribute(value: pb.AnyValue) -> Any:
    # MLflow keeps span attributes JSON-encoded; a plain OTel string stays as sent.
    return any_value(value)


def span_dict(body: bytes) -> dict[str, Any]:
    span = pb.Span.FromString(body)
    return {
        "trace_id": _b64(span.trace_id),
        "span_id": _b64(span.span_id),
        "parent_span_id": _b64(span.parent_span_id) if span.parent_span_id else None,
        "name": span.name,
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano or None,
        "events": [
            {
                "name": event.name,
                "time_unix_nano": event.time_unix_nano,
                "attributes": {kv.key: _attribute(kv.value) for kv in event.attributes},
            }
            for event in span.events
        ],
        "status": {
            "code": _STATUS.get(span.status.code, "STATUS_CODE_UNSET"),
            "message": span.status.message,
        },
        "attributes": {kv.key: _attribute(kv.value) for kv in span.attributes},
        "links": [],
    }


def trace_json_chunks(spans: Sequence[bytes]) -> Iterator[bytes]:
    buffer = bytearray(b'{"spans": [')
    for i, body in enumerate(spans):
        if i:
            buffer += b", "
        buffer += json.dumps(span_dict(body)).encode()
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    buffer += b"]}"
    yield bytes(buffer)
