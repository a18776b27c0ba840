"""Value conventions shared by the store modules: limits, reserved tag keys, stored metric values,
offset page tokens, small helpers."""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from runstash_protos.errors import invalid_parameter

from runstash_metadata.search.page_token import MAX_PAGE_OFFSET

MAX_DOUBLE = 1.7976931348623157e308
PARAM_VALUE_MAX = 6000
TAG_VALUE_MAX = 8000
RUN_NAME_TAG = "mlflow.runName"
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
DATASET_CONTEXT_TAG = "mlflow.data.context"
CUSTOM_VIEW_TAG_PREFIX = "mlflow.customView.view"
DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"
WORKSPACE = "default"
# Bind-parameter lists are split so no statement exceeds any driver's parameter limit.
IN_CHUNK = 2000


def now_ms() -> int:
    return int(time.time() * 1000)


def stored_value(value: float) -> tuple[float, bool]:
    """(value, is_nan) as stored: NaN becomes 0 + flag, +-inf becomes +-max double."""
    if -MAX_DOUBLE <= value <= MAX_DOUBLE:  # the common case, one comparison chain
        return value, False
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (MAX_DOUBLE if value > 0 else -MAX_DOUBLE), False
    return value, False


def loaded_value(value: float, is_nan: bool) -> float:
    return math.nan if is_nan else value


def encode_offset_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_offset_token(token: str | None) -> int:
    """Offset from a ``base64({"offset": N})`` token, with MLflow's error messages."""
    if not token:
        return 0
    try:
        decoded = base64.b64decode(token, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise invalid_parameter("Invalid page token, could not base64-decode") from exc
    try:
        parsed = json.loads(decoded)
    except ValueError as exc:
        raise invalid_parameter(f"Invalid page token, decoded value={decoded!r}") from exc
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_PAGE_OFFSET:
        raise invalid_parameter(f"Invalid page token, parsed value={parsed!r}")
    return offset


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def join_uri(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def resolve_local_location(location: str, cwd: Path) -> str:
    """MLflow's reading of an experiment's artifact location: a relative local path (no scheme,
    or ``file:`` without a remote host) is taken from the server's working directory ``cwd``;
    anything else is kept as given."""
    parsed = urllib.parse.urlsplit(location)
    if parsed.scheme not in ("", "file"):
        return location
    host = parsed.hostname
    if parsed.scheme == "file" and host and not (host == "." or host.startswith(("localhost", "127.0.0.1"))):
        return location
    path = urllib.request.url2pathname(parsed.path if parsed.scheme == "file" else location)
    if Path(path).is_absolute():
        return location
    absolute = cwd.joinpath(path).as_posix()
    if parsed.scheme == "":
        return absolute
    return urllib.parse.urlunsplit(("file", None, absolute, parsed.query, parsed.fragment))
