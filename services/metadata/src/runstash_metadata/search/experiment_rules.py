"""Which experiment filters and orderings are legal (search-grammar.md §3.2). Pure."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from runstash_protos.errors import invalid_parameter

from runstash_metadata.search.ast import BareValue, Comparison, ListValue, NumberValue, StringValue
from runstash_metadata.search.parser import parse_filter, parse_order_by
from runstash_metadata.search.values import (
    NUMERIC_OPS,
    PRESENCE_OPS,
    STRING_OPS,
    check_comparator,
    check_list_op,
    list_strings,
    set_repr,
    unquoted_error,
)


class ExperimentEntity(enum.StrEnum):
    ATTRIBUTE = "attribute"
    TAG = "tag"


_ENTITY_ALIASES = {
    "attribute": ExperimentEntity.ATTRIBUTE,
    "attributes": ExperimentEntity.ATTRIBUTE,
    "tag": ExperimentEntity.TAG,
    "tags": ExperimentEntity.TAG,
}
_ENTITY_NAMES = ("attribute", "attributes", "tag", "tags")
ATTRIBUTE_KEYS = ("name", "experiment_id", "creation_time", "last_update_time")
NUMERIC_ATTRIBUTES = ("creation_time", "last_update_time")
_LIST_KEYS = ["experiment_id"]

ExperimentValue = int | str | tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class ExperimentFilter:
    entity: ExperimentEntity
    key: str
    op: str
    value: ExperimentValue  # experiment ids are ints, times ints, names and tags strings


@dataclass(frozen=True, slots=True)
class ExperimentOrder:
    key: str
    ascending: bool


def _entity(name: str | None) -> ExperimentEntity:
    if name is None:
        return ExperimentEntity.ATTRIBUTE
    entity = _ENTITY_ALIASES.get(name)
    if entity is None:
        raise invalid_parameter(f"Invalid entity type '{name}'. Valid entity types are {_ENTITY_NAMES}")
    return entity


def _check_attribute_key(key: str) -> None:
    if key not in ATTRIBUTE_KEYS:
        raise invalid_parameter(
            f"Invalid attribute key '{key}' specified. Valid keys are '{set_repr(ATTRIBUTE_KEYS)}'"
        )


def _experiment_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise invalid_parameter(
            f"Invalid experiment ID '{text}'. Experiment ID must be a valid integer."
        ) from None


def parse_experiment_filter(filter_string: str | None) -> list[ExperimentFilter]:
    return [_experiment_filter(c) for c in parse_filter(filter_string, quote_clauses=False)]


def _experiment_filter(clause: Comparison) -> ExperimentFilter:
    entity = _entity(clause.identifier.entity)
    key = clause.identifier.key
    op = clause.op
    value = clause.value
    if entity is ExperimentEntity.TAG:
        if op in PRESENCE_OPS:
            return ExperimentFilter(entity, key, op, None)
        assert value is not None
        if isinstance(value, BareValue):
            raise unquoted_error(value)
        if not isinstance(value, StringValue):
            raise invalid_parameter(
                f"Expected a quoted string value for tag (e.g. 'my-value'). Got value {value.text}"
            )
        if op not in STRING_OPS:
            raise invalid_parameter(f"Invalid comparator for tag: {op}")
        return ExperimentFilter(entity, key, op, value.value)

    _check_attribute_key(key)
    if op in PRESENCE_OPS:
        raise invalid_parameter(
            f"IS NULL / IS NOT NULL is only supported for tags, not for attribute '{key}'"
        )
    assert value is not None
    if key in NUMERIC_ATTRIBUTES:
        if not isinstance(value, NumberValue):
            raise invalid_parameter(
                f"Expected numeric value type for numeric attribute: {key}. Found {value.text}"
            )
        if op not in NUMERIC_OPS:
            raise invalid_parameter(f"Invalid comparator for numeric attribute: {op}")
        if not value.is_integer:
            raise invalid_parameter(f"Invalid value for numeric attribute '{key}': {str(value.as_float())!r}")
        return ExperimentFilter(entity, key, op, int(value.text))

    if isinstance(value, BareValue):
        raise unquoted_error(value)
    if isinstance(value, NumberValue):
        raise invalid_parameter(f"Expected a quoted string value for attributes. Got value {value.text}")
    if isinstance(value, ListValue) and key not in _LIST_KEYS:
        raise invalid_parameter(
            f"Only {_LIST_KEYS} attributes support comparison with a list of quoted string values."
        )
    if key == "experiment_id":
        if op not in ("=", "!=", "IN", "NOT IN"):
            raise invalid_parameter(f"Invalid comparator for experiment_id: {op}")
        check_list_op(op, value, clause.text)
        if isinstance(value, ListValue):
            return ExperimentFilter(entity, key, op, tuple(_experiment_id(v) for v in list_strings(value)))
        assert isinstance(value, StringValue)
        return ExperimentFilter(entity, key, op, _experiment_id(value.value))
    assert isinstance(value, StringValue)
    if op not in STRING_OPS:
        raise invalid_parameter(f"Invalid comparator for string attribute: {op}")
    check_comparator(op, STRING_OPS)
    return ExperimentFilter(entity, key, op, value.value)


def parse_experiment_order_by(order_by: Sequence[str]) -> list[ExperimentOrder]:
    """Default ``creation_time DESC, experiment_id ASC``; ``experiment_id DESC`` breaks ties."""
    clauses = list(order_by) or ["creation_time DESC", "experiment_id ASC"]
    orders: list[ExperimentOrder] = []
    for clause in clauses:
        item = parse_order_by(clause)
        entity = _entity(item.identifier.entity)
        if entity is not ExperimentEntity.ATTRIBUTE:
            raise invalid_parameter(f"Invalid order_by entity: {entity.value}")
        _check_attribute_key(item.identifier.key)
        orders.append(ExperimentOrder(item.identifier.key, item.ascending))
    if not any(o.key == "experiment_id" for o in orders):
        orders.append(ExperimentOrder("experiment_id", False))
    return orders
