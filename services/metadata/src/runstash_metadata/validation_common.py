"""The shared vocabulary of request validation: MLflow's messages, required fields, identifiers,
the entity-key rule, length limits and value truncation.

Message texts are part of the wire protocol (clients and tests match on them), so they are
reproduced character for character, quirks included (double spaces, trailing spaces, Python
``repr`` quoting). Everything here is pure: no database, no I/O beyond reading two environment
variables at call time.
"""

from __future__ import annotations

import functools
import json
import math
import posixpath
import re
from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from runstash_protos.errors import ErrorCode, RunstashError

from runstash_metadata.settings import ValidationSettings
from runstash_metadata.store.values import PARAM_VALUE_MAX, TAG_VALUE_MAX

API_DOCS_HINT = " See the API docs for more information about request parameters."

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = PARAM_VALUE_MAX
MAX_TAG_VALUE_LENGTH = TAG_VALUE_MAX
MAX_DOUBLE = 1.7976931348623157e308


# Stored experiment ids are database integers; a longer number cannot name one, and handing it to
# the driver fails with a 500 (MLflow: "Python int too large to convert to SQLite INTEGER").
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# `$` (not \Z) on purpose: like MLflow, a single trailing newline is accepted (observed: set-tag
# with key "t\n" succeeds on the reference server), so keys and run ids behave identically.
_ENTITY_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")

BAD_CHARACTER_MESSAGE = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ),"
    " colon(:) and slashes (/)."
)


# ---------------------------------------------------------------- message builders


def invalid(message: str) -> RunstashError:
    return RunstashError(ErrorCode.INVALID_PARAMETER_VALUE, message)


def json_repr(value: Any) -> str:
    """A value as MLflow quotes it in messages: compact JSON, ASCII-escaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def invalid_value_message(path: str, value: Any, detail: str | None = None) -> str:
    if detail:
        return f"Invalid value {json_repr(value)} for parameter '{path}' supplied: {detail}"
    return f"Invalid value {json_repr(value)} for parameter '{path}' supplied."


def missing_value_message(path: str) -> str:
    return f"Missing value for required parameter '{path}'.{API_DOCS_HINT}"


def type_error_message(field: str, value: Any) -> str:
    """MLflow's answer to a JSON value of the wrong type, for the gateway's transcoder.

    ``value`` is the decoded JSON value (str, int, float, bool, list, dict or None). The double
    space after "supplied:" is what the reference server sends.
    """
    detail = f" Hint: Value was of type '{type(value).__name__}'."
    return invalid_value_message(field, value, detail) + API_DOCS_HINT


def exceeds_max_length_message(name: str, limit: int) -> str:
    return f"'{name}' exceeds the maximum length of {limit} characters"


def non_positive_max_results_message(value: int) -> str:
    return f"Invalid value {value} for parameter 'max_results' supplied. It must be a positive integer"


# ---------------------------------------------------------------- required fields


def is_missing(message: Message, field_name: str) -> bool:
    """MLflow's notion of "missing": absent, an empty string, or an empty repeated field."""
    field = message.DESCRIPTOR.fields_by_name[field_name]
    if field.is_repeated:
        return len(getattr(message, field_name)) == 0
    if not message.HasField(field_name):
        return True
    return field.type == FieldDescriptor.TYPE_STRING and getattr(message, field_name) == ""


def require(request: Message, field_name: str, *, path: str | None = None) -> None:
    """Raise MLflow's "Missing value for required parameter" error if ``field_name`` is missing.

    ``path`` names the field in the message when it is nested (``metrics[0].timestamp``).
    """
    if is_missing(request, field_name):
        raise invalid(missing_value_message(path or field_name))


def require_run_id(request: Message) -> None:
    """``run_id`` is required, with the deprecated ``run_uuid`` accepted when run_id is absent.

    A present-but-empty run_id does not fall back (the reference server answers "Missing value
    for required parameter 'run_id'" for ``{"run_id": "", "run_uuid": "<id>"}``).
    """
    fields = request.DESCRIPTOR.fields_by_name
    if request.HasField("run_id") or "run_uuid" not in fields:
        require(request, "run_id")
        return
    if is_missing(request, "run_uuid"):
        raise invalid(missing_value_message("run_id"))


def run_id_of(request: Message) -> str:
    """The run the request addresses: ``run_id``, else the deprecated ``run_uuid``."""
    run_id: str = getattr(request, "run_id", "")
    if run_id or "run_uuid" not in request.DESCRIPTOR.fields_by_name:
        return run_id
    run_uuid: str = getattr(request, "run_uuid", "")
    return run_uuid


# ---------------------------------------------------------------- identifiers


def parse_experiment_id(value: str) -> int:
    """An experiment id as an integer, with MLflow's error for anything else.

    Python ``int()`` semantics on purpose (the reference server accepts " 2 " and "0_2"), plus a
    64-bit bound so the database driver never sees a number it cannot bind.
    """
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or not _INT64_MIN <= parsed <= _INT64_MAX:
        raise invalid(f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer.")
    return parsed


def parse_experiment_ids(values: Iterable[str]) -> list[int]:
    return [parse_experiment_id(value) for value in values]


def check_run_id_format(run_id: str, path: str = "run_id") -> None:
    """The run-id shape enforced by log-batch and log-inputs."""
    if _RUN_ID_RE.match(run_id) is None:
        raise invalid(invalid_value_message(path, run_id))


# ---------------------------------------------------------------- entity keys and lengths


def check_entity_key(key: str, path: str) -> None:
    """The entity-key rule for metric names, param keys and tag keys (limits.md §2, steps 2-3).

    ``path`` is the parameter name in the message: ``name`` for metrics, ``key`` for params and
    tags, or a batch item path such as ``tags[3].key``.
    """
    problem = entity_key_problem(key)
    if problem is not None:
        raise invalid(invalid_value_message(path, key, problem))


def entity_key_problem(key: str) -> str | None:
    """Why ``key`` breaks the entity-key rule (the message detail), or None if it is fine.

    Cached for keys of legal length: a training job logs the same few names over and over, and
    longer keys fail anyway, so they cannot fill the cache with big strings.
    """
    if len(key) <= MAX_ENTITY_KEY_LENGTH:
        return _cached_entity_key_problem(key)
    return _entity_key_problem(key)


def _entity_key_problem(key: str) -> str | None:
    if _ENTITY_KEY_RE.match(key) is None:
        return BAD_CHARACTER_MESSAGE
    normalized = posixpath.normpath(key)
    if normalized != key or normalized == "." or normalized.startswith(("..", "/")):
        return (
            "Names may be treated as files in certain cases, and must not resolve to other names"
            f" when treated as such. This name would resolve to {normalized!r}"
        )
    return None


_cached_entity_key_problem = functools.lru_cache(maxsize=8192)(_entity_key_problem)


def check_max_length(name: str, limit: int, value: str) -> None:
    if len(value) > limit:
        raise invalid(exceeds_max_length_message(name, limit))


def truncation_enabled(settings: ValidationSettings | None = None) -> bool:
    """``MLFLOW_TRUNCATE_LONG_VALUES`` (default true) as the server parsed it at start-up
    (``settings``); without settings (library use, tests) it is read from the environment now."""
    return (settings or ValidationSettings.from_env()).truncate_long_values


def _check_value_length(name: str, limit: int, value: str, settings: ValidationSettings | None) -> None:
    # The store cuts a longer value to the limit (MLflow's truncation); with truncation off it is
    # rejected here instead, before anything is written.
    if len(value) > limit and not truncation_enabled(settings):
        raise invalid(exceeds_max_length_message(name, limit))


def check_param_value_length(value: str, settings: ValidationSettings | None = None) -> None:
    """A param value over 6000 characters is stored cut to 6000, or rejected if truncation is disabled."""
    _check_value_length("Param value", MAX_PARAM_VALUE_LENGTH, value, settings)


def check_tag_value_length(
    value: str, path: str = "value", settings: ValidationSettings | None = None
) -> None:
    """A run-tag value over 8000 characters is stored cut to 8000, or rejected if truncation is
    disabled. ``path`` is ``value`` for set-tag and ``tags[i].value`` for a batch item.
    """
    _check_value_length(path, MAX_TAG_VALUE_LENGTH, value, settings)


# ---------------------------------------------------------------- metric values


def normalize_metric_value(value: float) -> float:
    """The value a metric is stored with: +-inf become +-max double (NaN is kept; the store keeps
    it as value 0 with is_nan set)."""
    if math.isinf(value):
        return MAX_DOUBLE if value > 0 else -MAX_DOUBLE
    return value
