"""The logged-model filter language (search-grammar.md §3.5): a stricter dialect of its own.

Differences from the shared grammar: only the plural prefixes (``attributes``, ``metrics``,
``params``, ``tags``), only single quotes are stripped from scalar values (``"2"`` stays ``"2"``
with its quotes and never matches), lists are allowed on every string field, no IS NULL, and its
own messages. order_by arrives structured (proto OrderBy), not as strings.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from runstash_protos.errors import RunstashError, invalid_parameter

from runstash_metadata.search.ast import BareValue, ListValue, NumberValue, StringValue, Value
from runstash_metadata.search.lexer import Cursor, SyntaxFailure, find_unquoted
from runstash_metadata.search.values import bounded_float, check_list_op, list_strings, set_repr


class LoggedModelEntity(enum.StrEnum):
    ATTRIBUTE = "attributes"
    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"


_ENTITY_NAMES = [e.value for e in LoggedModelEntity]
_LOWER_WORD = re.compile(r"[a-z]+")

# Filter key -> canonical attribute name (the column minus its ``_ms`` suffix).
_ATTRIBUTE_KEYS = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "source_run_id": "source_run_id",
    "status": "status",
    "creation_timestamp": "creation_timestamp",
    "creation_time": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
NUMERIC_ATTRIBUTES = ("creation_timestamp", "last_updated_timestamp")
_NUMERIC_OPS = ("<", "<=", ">", ">=", "=", "!=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_STATUS_OPS = ("=", "!=", "IN", "NOT IN")
# Short status names in filters -> LoggedModelStatus numbers stored in logged_models.status.
STATUS_NUMBERS = {"PENDING": 1, "READY": 2, "FAILED": 3}

LoggedModelValue = float | int | str | tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LoggedModelFilter:
    entity: LoggedModelEntity
    key: str  # canonical attribute name, or the metric/param/tag key
    op: str
    value: LoggedModelValue  # status values are already numbers


@dataclass(frozen=True, slots=True)
class LoggedModelOrder:
    key: str  # canonical attribute name, or the metric key when is_metric
    is_metric: bool
    ascending: bool
    dataset_name: str | None = None
    dataset_digest: str | None = None


class OrderByMessage(Protocol):
    """SearchLoggedModels.OrderBy (duck-typed so plain objects work in tests)."""

    @property
    def field_name(self) -> str: ...
    @property
    def ascending(self) -> bool: ...
    @property
    def dataset_name(self) -> str: ...
    @property
    def dataset_digest(self) -> str: ...


class DatasetMessage(Protocol):
    """SearchLoggedModels.Dataset."""

    @property
    def dataset_name(self) -> str: ...
    @property
    def dataset_digest(self) -> str: ...


@dataclass(frozen=True, slots=True)
class DatasetFilter:
    name: str
    digest: str | None  # None: any digest


def _bad_filter(filter_string: str) -> RunstashError:
    return invalid_parameter(
        f"Invalid filter string: {filter_string!r}. Expected a list of comparisons separated by 'AND' "
        "(e.g. 'metrics.loss > 0.1 AND params.lr = 0.01')."
    )


def parse_logged_model_filter(filter_string: str | None) -> list[LoggedModelFilter]:
    if not filter_string or not filter_string.strip():
        return []
    semicolon = find_unquoted(filter_string, ";")
    if semicolon >= 0 and filter_string[semicolon + 1 :].strip():
        raise invalid_parameter(
            f"Invalid filter string: {filter_string!r}. Expected a single SQL expression."
        )
    cursor = Cursor(filter_string)
    filters: list[LoggedModelFilter] = []
    cursor.skip_ws()
    while True:
        start = cursor.pos
        try:
            identifier = cursor.read_identifier()
            cursor.skip_ws()
            op = cursor.read_operator()
            value: Value | None = None
            if op not in ("IS NULL", "IS NOT NULL"):
                cursor.skip_ws()
                value = cursor.read_value()
        except SyntaxFailure:
            raise _bad_filter(filter_string) from None
        text = filter_string[start : cursor.pos]
        filters.append(_logged_model_filter(identifier.entity, identifier.key, op, value, text))
        cursor.skip_ws()
        if cursor.at_end():
            return filters
        if cursor.read_word().upper() != "AND" or not cursor.skip_ws() or cursor.at_end():
            raise _bad_filter(filter_string)


def _entity_and_key(entity: str | None, key: str) -> tuple[LoggedModelEntity, str]:
    if entity is not None and _LOWER_WORD.fullmatch(entity):
        try:
            return LoggedModelEntity(entity), key
        except ValueError:
            raise invalid_parameter(
                f"Invalid entity type: {entity!r}. Expected one of {_ENTITY_NAMES}."
            ) from None
    # MLflow only recognises a lower-case word before the dot as an entity; the rest is a key.
    return LoggedModelEntity.ATTRIBUTE, key if entity is None else f"{entity}.{key}"


def _logged_model_filter(
    entity_name: str | None, written_key: str, op: str, value: Value | None, text: str
) -> LoggedModelFilter:
    entity, key = _entity_and_key(entity_name, written_key)
    if entity is LoggedModelEntity.ATTRIBUTE:
        key = _attribute_key(key)
    if value is None:
        raise invalid_parameter(f"Invalid comparison: {text}. Expected a comparison with 3 tokens.")
    numeric = entity is LoggedModelEntity.METRIC or key in NUMERIC_ATTRIBUTES
    is_status = entity is LoggedModelEntity.ATTRIBUTE and key == "status"
    ops = _NUMERIC_OPS if numeric else _STATUS_OPS if is_status else _STRING_OPS
    if op not in ops:
        raise invalid_parameter(
            f"Invalid comparison operator for {entity.value}.{key}: {op!r}. Expected one of {ops}."
        )
    if numeric:
        if not isinstance(value, NumberValue):
            raise invalid_parameter(
                f"Expected a numeric value for {entity.value}.{key}. Got value {value.text}"
            )
        return LoggedModelFilter(entity, key, op, bounded_float(value))
    check_list_op(op, value, text)
    result: str | tuple[str, ...]
    if isinstance(value, ListValue):
        result = list_strings(value)
    elif isinstance(value, StringValue):
        # Only single quotes are stripped: a double-quoted literal keeps its quotes.
        result = value.value if value.quote == "'" else value.text
    else:
        assert isinstance(value, NumberValue | BareValue)
        result = value.text
    if is_status:
        return LoggedModelFilter(entity, key, op, _status_numbers(result))
    return LoggedModelFilter(entity, key, op, result)


def _attribute_key(key: str) -> str:
    canonical = _ATTRIBUTE_KEYS.get(key)
    if canonical is None:
        raise invalid_parameter(
            f"Invalid attribute key '{key}' specified. Valid keys are '{set_repr(_ATTRIBUTE_KEYS)}'"
        )
    return canonical


def _status_numbers(value: str | tuple[str, ...]) -> int | tuple[int, ...]:
    names = (value,) if isinstance(value, str) else value
    for name in names:
        if name not in STATUS_NUMBERS:
            raise invalid_parameter(
                f"Unknown model status in filter: {name!r}. Expected one of {list(STATUS_NUMBERS)}."
            )
    numbers = tuple(STATUS_NUMBERS[name] for name in names)
    return numbers[0] if isinstance(value, str) else numbers


def parse_logged_model_order_by(order_by: Sequence[OrderByMessage]) -> list[LoggedModelOrder]:
    """The requested orderings, then ``creation_timestamp DESC`` and ``model_id ASC`` unless given."""
    orders: list[LoggedModelOrder] = []
    for ob in order_by:
        field_name = ob.field_name
        if not field_name:
            raise invalid_parameter("`field_name` in the `order_by` clause must be specified.")
        dataset_name = ob.dataset_name or None
        dataset_digest = ob.dataset_digest or None
        if dataset_digest and not dataset_name:
            raise invalid_parameter(
                "`dataset_digest` can only be specified if `dataset_name` is also specified."
            )
        if "." in field_name:
            entity, key = field_name.split(".", 1)
            if entity != "metrics":
                raise invalid_parameter(
                    f"Invalid order by field name: {field_name}. Only metrics are supported."
                )
            orders.append(LoggedModelOrder(key, True, ob.ascending, dataset_name, dataset_digest))
            continue
        canonical = _ATTRIBUTE_KEYS.get(field_name.strip())
        if canonical is None:
            raise invalid_parameter(f"Invalid order by field name: {field_name}")
        orders.append(LoggedModelOrder(canonical, False, ob.ascending))
    attributes = {o.key for o in orders if not o.is_metric}
    if "creation_timestamp" not in attributes:
        orders.append(LoggedModelOrder("creation_timestamp", False, False))
    if "model_id" not in attributes:
        orders.append(LoggedModelOrder("model_id", False, True))
    return orders


def parse_datasets(datasets: Sequence[DatasetMessage]) -> list[DatasetFilter]:
    result: list[DatasetFilter] = []
    for d in datasets:
        if not d.dataset_name:
            raise invalid_parameter("`dataset_name` in the `datasets` clause must be specified.")
        result.append(DatasetFilter(d.dataset_name, d.dataset_digest or None))
    return result


def order_by_token_form(order_by: Sequence[OrderByMessage]) -> list[dict[str, object]]:
    """The order_by as MLflow's handler writes it into page tokens."""
    return [
        {
            "field_name": ob.field_name,
            "ascending": ob.ascending,
            "dataset_name": ob.dataset_name or None,
            "dataset_digest": ob.dataset_digest or None,
        }
        for ob in order_by
    ]
