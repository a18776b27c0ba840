"""OTLP/HTTP span ingest at ``POST /v1/traces`` (the route comes from TraceService.ExportSpans's
``google.api.http`` rule; this is its handler).

Protobuf (``application/x-protobuf``) bodies pass through unparsed; OTLP JSON (hex ids, camelCase)
is turned into the same protobuf here. ``Content-Encoding`` gzip or deflate is undone with a bound
on the decompressed size. MLflow's headers name the experiment (``x-mlflow-experiment-id``,
required) and optionally a run (``x-mlflow-run-id``). The service writes the batch in one
transaction: all of it, or an error and nothing. The answer is an empty
ExportTraceServiceResponse in the request's content type, as the OTLP specification asks.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import orjson
from google.protobuf import json_format
from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import invalid_parameter

from .asgi import JSON, respond, respond_error
from .body import PayloadTooLarge, read_body

OTLP_PATH = "/v1/traces"
PROTOBUF = b"application/x-protobuf"
# Decompressed bytes one request may carry (the OTel Collector's default batch is far smaller).
MAX_OTLP_BYTES = 20 * 1024 * 1024
EXPERIMENT_HEADER = b"x-mlflow-experiment-id"
RUN_HEADER = b"x-mlflow-run-id"
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _headers(scope: dict[str, Any]) -> dict[bytes, bytes]:
    return {name: value for name, value in scope["headers"]}


def _media_type(value: bytes | None) -> bytes:
    return (value or b"").split(b";", 1)[0].strip().lower()


def _inflate(raw: bytes, encoding: bytes) -> bytes:
    if encoding in (b"", b"identity"):
        return raw
    if encoding not in (b"gzip", b"deflate"):
        raise invalid_parameter(f"Unsupported Content-Encoding: {encoding.decode('latin-1')}")
    window = 16 + zlib.MAX_WBITS if encoding == b"gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(window)
    try:
        out = inflater.decompress(raw, MAX_OTLP_BYTES + 1)
    except zlib.error:
        raise invalid_parameter(f"The body is not valid {encoding.decode()} data.") from None
    if len(out) > MAX_OTLP_BYTES:
        raise PayloadTooLarge
    return out


def _hex_ids_to_base64(node: Any) -> None:
    """OTLP JSON writes ids as hex; protobuf JSON parsing expects base64 for bytes fields."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str) and value:
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise invalid_parameter(f"Invalid hex id {value!r} in field {key}.") from None
            else:
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def json_to_protobuf(raw: bytes) -> bytes:
    try:
        document = orjson.loads(raw)
        _hex_ids_to_base64(document)
        message = json_format.ParseDict(document, pb.ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (orjson.JSONDecodeError, json_format.ParseError, TypeError, AttributeError) as exc:
        raise invalid_parameter(
            f"The body is not a valid OTLP JSON ExportTraceServiceRequest: {exc}"
        ) from None
    return message.SerializeToString()


async def handle_otlp(target: Any, exchange: Any) -> None:
    headers = _headers(exchange.scope)
    media = _media_type(headers.get(b"content-type"))
    if media not in (PROTOBUF, JSON):
        raise invalid_parameter(
            "Unsupported Content-Type: OTLP/HTTP takes application/x-protobuf or application/json."
        )
    experiment_id = headers.get(EXPERIMENT_HEADER, b"").decode("latin-1").strip()
    if not experiment_id:
        raise invalid_parameter("Missing the x-mlflow-experiment-id header.")
    try:
        raw = await read_body(
            exchange.receive, headers.get(b"content-length"), MAX_OTLP_BYTES, target.config.body_timeout_s
        )
        payload = _inflate(raw, headers.get(b"content-encoding", b"").strip().lower())
    except PayloadTooLarge:
        error = invalid_parameter(f"The OTLP request is too large; the limit is {MAX_OTLP_BYTES} bytes.")
        await respond_error(exchange.send, error, status=413)
        return
    if media == JSON:
        payload = json_to_protobuf(payload)
    request = target.request_codec.build(
        {
            "experiment_id": experiment_id,
            "run_id": headers.get(RUN_HEADER, b"").decode("latin-1").strip(),
            "payload": payload,
        }
    )
    await target.backend.unary(target.rpc, request, exchange.metadata)
    await respond(exchange.send, 200, b"{}" if media == JSON else b"", media)
