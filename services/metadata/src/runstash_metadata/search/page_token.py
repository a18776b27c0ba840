"""Opaque page tokens: base64 of JSON, byte-compatible with MLflow's (search-grammar.md §4)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from runstash_protos.errors import invalid_parameter

# Far beyond any real page (the largest integer every JSON reader keeps exactly); a larger offset
# would overflow the databases' 64-bit OFFSET and fail as a 500 instead of a 400.
MAX_PAGE_OFFSET = 2**53 - 1


def encode_offset(offset: int) -> str:
    return _encode({"offset": offset})


def decode_offset(page_token: str | None) -> int:
    """The offset in a runs/experiments token; 0 without a token."""
    if not page_token:
        return 0
    parsed = _decode(page_token)
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    # MLflow's reading (int() of the value, so "5" is 5), without its 500s: a float that is not a
    # whole number (1e400 parses as inf) or an offset out of range is a bad token.
    if not offset or (isinstance(offset, float) and not offset.is_integer()):
        raise invalid_parameter(f"Invalid page token, parsed value={parsed}")
    try:
        value = int(offset)
    except (TypeError, ValueError):
        raise invalid_parameter(f"Invalid page token, not stringable {offset}") from None
    if not 0 <= value <= MAX_PAGE_OFFSET:
        raise invalid_parameter(f"Invalid page token, parsed value={parsed}")
    return value


def encode_logged_model_token(
    experiment_ids: list[str], filter_string: str | None, order_by: list[dict[str, Any]] | None, offset: int
) -> str:
    return _encode(
        {
            "experiment_ids": experiment_ids,
            "filter_string": filter_string,
            "order_by": order_by,
            "offset": offset,
        }
    )


def decode_logged_model_token(
    page_token: str | None,
    experiment_ids: list[str],
    filter_string: str | None,
    order_by: list[dict[str, Any]] | None,
) -> int:
    """The offset in a logged-model token, which must describe the same search as the request."""
    if not page_token:
        return 0
    parsed = _decode(page_token)
    if not isinstance(parsed, dict):
        raise invalid_parameter(f"Invalid page token, parsed value={parsed}")
    token_ids = parsed.get("experiment_ids")
    if token_ids != experiment_ids:
        raise invalid_parameter(
            "Experiment IDs in the page token do not match the requested experiment IDs. "
            f"Expected: {experiment_ids}. Found: {token_ids}"
        )
    token_filter = parsed.get("filter_string") or None
    if token_filter != filter_string:
        raise invalid_parameter(
            "Filter string in the page token does not match the requested filter string. "
            f"Expected: {filter_string}. Found: {token_filter}"
        )
    token_order = parsed.get("order_by") or None
    if token_order != order_by:
        raise invalid_parameter(
            "Order by in the page token does not match the requested order by. "
            f"Expected: {order_by}. Found: {token_order}"
        )
    offset = parsed.get("offset") or 0
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_PAGE_OFFSET:
        raise invalid_parameter(f"Invalid page token, parsed value={parsed}")
    return offset


def _encode(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


def _decode(page_token: str) -> Any:
    try:
        decoded = base64.b64decode(page_token)
    except (binascii.Error, ValueError):
        raise invalid_parameter("Invalid page token, could not base64-decode") from None
    try:
        return json.loads(decoded)
    except ValueError:
        raise invalid_parameter(f"Invalid page token, decoded value={decoded!r}") from None
