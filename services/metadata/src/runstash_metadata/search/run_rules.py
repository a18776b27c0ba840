"""Which run filters and orderings are legal, and what they mean (search-grammar.md §3.1).

Pure: turns the parsed :class:`Comparison` list into typed :class:`RunFilter` values and the
order_by strings into :class:`RunOrder` values (tie-breakers appended). SQL lives in ``runs``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from runstash_protos.errors import invalid_parameter

from runstash_metadata.search.ast import BareValue, Comparison, ListValue, NumberValue, StringValue, Value
from runstash_metadata.search.parser import parse_filter, parse_order_by
from runstash_metadata.search.values import (
    NUMERIC_OPS,
    PRESENCE_OPS,
    STRING_OPS,
    STRING_OR_LIST_OPS,
    bounded_float,
    check_comparator,
    check_list_op,
    integer_or_float,
    list_strings,
    set_repr,
    unquoted_error,
)


class RunEntity(enum.StrEnum):
    METRIC = "metric"
    PARAM = "parameter"
    TAG = "tag"
    ATTRIBUTE = "attribute"
    DATASET = "dataset"


_ENTITY_ALIASES: dict[str, RunEntity] = {
    "metric": RunEntity.METRIC,
    "metrics": RunEntity.METRIC,
    "parameter": RunEntity.PARAM,
    "parameters": RunEntity.PARAM,
    "param": RunEntity.PARAM,
    "params": RunEntity.PARAM,
    "tag": RunEntity.TAG,
    "tags": RunEntity.TAG,
    "attribute": RunEntity.ATTRIBUTE,
    "attributes": RunEntity.ATTRIBUTE,
    "attr": RunEntity.ATTRIBUTE,
    "run": RunEntity.ATTRIBUTE,
    "dataset": RunEntity.DATASET,
    "datasets": RunEntity.DATASET,
}
_ENTITY_NAMES = ["metric", "parameter", "tag", "attribute", "dataset"]

STRING_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "artifact_uri")
NUMERIC_ATTRIBUTES = ("start_time", "end_time")
_ALIASES = {"created": "start_time", "Created": "start_time"}
_NAME_ALIASES = {"run name": "run_name", "Run name": "run_name", "Run Name": "run_name"}
_FILTER_ATTRIBUTE_KEYS = (
    *STRING_ATTRIBUTES,
    *NUMERIC_ATTRIBUTES,
    *_ALIASES,
    *_NAME_ALIASES,
)
_ORDER_ATTRIBUTE_KEYS = (*STRING_ATTRIBUTES, *NUMERIC_ATTRIBUTES, *_ALIASES)
DATASET_KEYS = ("name", "digest", "context")
_LIST_KEYS = ["run_id"]

RunValue = float | int | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class RunFilter:
    """``key`` is canonical: aliases resolved (``created`` -> ``start_time``)."""

    entity: RunEntity
    key: str
    op: str
    value: RunValue


@dataclass(frozen=True, slots=True)
class RunOrder:
    entity: RunEntity
    key: str
    ascending: bool


def _entity(name: str | None) -> RunEntity:
    if name is None:
        return RunEntity.ATTRIBUTE
    entity = _ENTITY_ALIASES.get(name)
    if entity is None:
        raise invalid_parameter(f"Invalid entity type '{name}'. Valid values are {_ENTITY_NAMES}")
    return entity


def _check_key(entity: RunEntity, key: str, attribute_keys: tuple[str, ...]) -> None:
    if entity is RunEntity.ATTRIBUTE and key not in attribute_keys:
        raise invalid_parameter(
            f"Invalid attribute key '{key}' specified. Valid keys are '{set_repr(attribute_keys)}'"
        )
    if entity is RunEntity.DATASET and key not in DATASET_KEYS:
        raise invalid_parameter(
            f"Invalid dataset key '{key}' specified. Valid keys are '{set_repr(DATASET_KEYS)}'"
        )


def parse_run_filter(filter_string: str | None) -> list[RunFilter]:
    return [_run_filter(c) for c in parse_filter(filter_string)]


def _run_filter(clause: Comparison) -> RunFilter:
    entity = _entity(clause.identifier.entity)
    written_key = clause.identifier.key
    _check_key(entity, written_key, _FILTER_ATTRIBUTE_KEYS)
    key = _ALIASES.get(written_key, _NAME_ALIASES.get(written_key, written_key))
    op = clause.op
    if op in PRESENCE_OPS:
        if entity not in (RunEntity.PARAM, RunEntity.TAG):
            raise invalid_parameter(
                "IS NULL / IS NOT NULL is only supported for tags and params, "
                f"not for '{entity.value}' '{written_key}'"
            )
        return RunFilter(entity, key, op, None)
    value = clause.value
    assert value is not None
    result, allowed = _filter_value(entity, key, written_key, value)
    check_comparator(op, allowed)
    check_list_op(op, value, clause.text)
    return RunFilter(entity, key, op, result)


def _filter_value(
    entity: RunEntity, key: str, written_key: str, value: Value
) -> tuple[RunValue, tuple[str, ...]]:
    """The comparison's value checked against the entity's type, and the operators it allows."""
    if entity is RunEntity.METRIC:
        if not isinstance(value, NumberValue):
            raise invalid_parameter(f"Expected numeric value type for metric. Found {value.text}")
        return bounded_float(value), NUMERIC_OPS
    if entity in (RunEntity.PARAM, RunEntity.TAG):
        if isinstance(value, BareValue):
            raise unquoted_error(value)
        if not isinstance(value, StringValue):
            raise invalid_parameter(
                f"Expected a quoted string value for {entity.value} (e.g. 'my-value'). Got value {value.text}"
            )
        return value.value, STRING_OPS + PRESENCE_OPS
    if entity is RunEntity.DATASET:
        if isinstance(value, StringValue):
            return value.value, STRING_OR_LIST_OPS
        if isinstance(value, ListValue):
            return list_strings(value), STRING_OR_LIST_OPS
        if isinstance(value, BareValue):
            raise unquoted_error(value)
        raise invalid_parameter(
            f"Expected a quoted string value for dataset attributes. Got value {value.text}"
        )
    if key in NUMERIC_ATTRIBUTES:
        if not isinstance(value, NumberValue):
            raise invalid_parameter(
                f"Expected numeric value type for numeric attribute: {written_key}. Found {value.text}"
            )
        return integer_or_float(value), NUMERIC_OPS
    if isinstance(value, StringValue):
        return value.value, STRING_OR_LIST_OPS
    if isinstance(value, ListValue):
        if key not in _LIST_KEYS:
            raise invalid_parameter(
                f"Only {_LIST_KEYS} attributes support comparison with a list of quoted string values."
            )
        return list_strings(value), STRING_OR_LIST_OPS
    if isinstance(value, BareValue):
        raise unquoted_error(value)
    raise invalid_parameter(f"Expected a quoted string value for attributes. Got value {value.text}")


def parse_run_order_by(order_by: Sequence[str]) -> list[RunOrder]:
    """The requested orderings, then ``start_time DESC`` (unless given) and ``run_id ASC``."""
    orders: list[RunOrder] = []
    seen: set[tuple[RunEntity, str]] = set()
    for clause in order_by:
        item = parse_order_by(clause)
        entity = _entity(item.identifier.entity)
        written_key = item.identifier.key
        _check_key(entity, written_key, _ORDER_ATTRIBUTE_KEYS)
        if entity is RunEntity.DATASET:
            raise invalid_parameter(f"Invalid identifier type '{entity.value}'")
        key = _ALIASES.get(written_key, written_key)
        if (entity, key) in seen:
            # MLflow answers 500 here; a bad request is the caller's fault, so 400.
            raise invalid_parameter(f"`order_by` contains duplicate fields: {list(order_by)}")
        seen.add((entity, key))
        orders.append(RunOrder(entity, key, item.ascending))
    if (RunEntity.ATTRIBUTE, "start_time") not in seen:
        orders.append(RunOrder(RunEntity.ATTRIBUTE, "start_time", False))
    if (RunEntity.ATTRIBUTE, "run_id") not in seen:
        orders.append(RunOrder(RunEntity.ATTRIBUTE, "run_id", True))
    return orders
