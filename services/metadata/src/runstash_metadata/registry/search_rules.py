"""Which registered-model and model-version filters and orderings are legal (mlflow-registry.md §5).

Pure: built on the shared parser (``search.parser``); the SQL is search.py's job.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from runstash_protos.errors import invalid_parameter

from runstash_metadata.search.ast import BareValue, Comparison, ListValue, NumberValue, StringValue
from runstash_metadata.search.parser import parse_filter, parse_order_by
from runstash_metadata.search.values import (
    NUMERIC_OPS,
    STRING_OPS,
    check_list_op,
    list_strings,
    unquoted_error,
)


class Kind(enum.Enum):
    """What is being searched: the rules differ in keys and messages."""

    MODELS = "models"
    VERSIONS = "versions"


_ENTITY_NAMES = ("attribute", "tag", "tags")
_ATTRIBUTE_KEYS = {
    Kind.MODELS: ("name",),
    Kind.VERSIONS: ("version_number", "name", "source_path", "run_id"),
}
_LIST_KEYS = ["name", "run_id"]
_LIST_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_MODEL_ORDER_KEYS = ("name", "timestamp", "last_updated_timestamp")
_VERSION_ORDER_KEYS = ("last_updated_timestamp", "version_number", "creation_timestamp", "name")

FilterValue = str | int | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegistryFilter:
    is_tag: bool
    key: str  # attribute key (version_number, name, source_path, run_id) or tag key
    op: str
    value: FilterValue


@dataclass(frozen=True, slots=True)
class RegistryOrder:
    key: str  # name, last_updated_timestamp, creation_timestamp, version_number
    ascending: bool


def _quoted(items: Sequence[str]) -> str:
    return "{" + ", ".join(repr(i) for i in items) + "}"


def parse_registry_filter(kind: Kind, filter_string: str | None) -> list[RegistryFilter]:
    return [_filter(kind, clause) for clause in parse_filter(filter_string, quote_clauses=False)]


def _filter(kind: Kind, clause: Comparison) -> RegistryFilter:
    entity = clause.identifier.entity
    key = clause.identifier.key
    op = clause.op
    value = clause.value
    if entity is not None and entity not in _ENTITY_NAMES:
        raise invalid_parameter(f"Invalid entity type '{entity}'. Valid entity types are {_ENTITY_NAMES}")
    if entity in ("tag", "tags"):
        if value is None or not isinstance(value, StringValue):
            shown = "None" if value is None else value.text
            raise invalid_parameter(
                f"Expected a quoted string value for tag (e.g. 'my-value'). Got value {shown}"
            )
        if op not in STRING_OPS:
            raise invalid_parameter(f"Invalid comparator for tag: {op}")
        return RegistryFilter(True, key, op, value.value)
    keys = _ATTRIBUTE_KEYS[kind]
    if key not in keys:
        raise invalid_parameter(f"Invalid attribute key '{key}' specified. Valid keys are '{_quoted(keys)}'")
    if value is None:
        raise invalid_parameter(f"Invalid comparator for attribute: {op}")
    if isinstance(value, ListValue) and key not in _LIST_KEYS:
        raise invalid_parameter(
            f"Only {_LIST_KEYS} attributes support comparison with a list of quoted string values."
        )
    if key == "version_number":
        if not isinstance(value, NumberValue) or not value.is_integer:
            raise invalid_parameter(f"Invalid value for numeric attribute 'version_number': {value.text}")
        if op not in NUMERIC_OPS:
            raise invalid_parameter(f"Invalid comparator for attribute version_number: {op}")
        return RegistryFilter(False, key, op, int(value.text))
    if isinstance(value, BareValue):
        raise unquoted_error(value)
    if isinstance(value, NumberValue):
        raise invalid_parameter(
            "Expected a quoted string value or a list of quoted string values for attributes. "
            f"Got value {value.text}"
        )
    if op not in _LIST_OPS:
        raise invalid_parameter(f"Invalid comparator for attribute: {op}")
    check_list_op(op, value, clause.text)
    if isinstance(value, ListValue):
        return RegistryFilter(False, key, op, list_strings(value))
    assert isinstance(value, StringValue)
    return RegistryFilter(False, key, op, value.value)


def parse_registry_order_by(kind: Kind, order_by: Sequence[str]) -> list[RegistryOrder]:
    """The requested order plus MLflow's tie-breakers; duplicates are refused as MLflow does."""
    orders = [_order(kind, clause) for clause in order_by]
    if len({o.key for o in orders}) != len(orders):
        # MLflow answers 500 INTERNAL_ERROR, which clients retry; it is bad input (limits.md §6).
        raise invalid_parameter(f"`order_by` contains duplicate fields: {list(order_by)}")
    if kind is Kind.MODELS:
        defaults = [RegistryOrder("name", True)]
    else:
        defaults = [
            RegistryOrder("last_updated_timestamp", False),
            RegistryOrder("name", True),
            RegistryOrder("version_number", False),
        ]
        if orders:
            defaults = defaults[1:]
    seen = {o.key for o in orders}
    return orders + [d for d in defaults if d.key not in seen]


def _order(kind: Kind, clause: str) -> RegistryOrder:
    item = parse_order_by(clause)
    entity = item.identifier.entity
    key = item.identifier.key
    if kind is Kind.MODELS:
        full = f"{entity}.{key}" if entity else key
        if entity not in (None, "attribute") or key not in _MODEL_ORDER_KEYS:
            raise invalid_parameter(
                f"Invalid order by key '{full}' specified. Valid keys are '{_quoted(('name', 'timestamp'))}'"
            )
        return RegistryOrder("last_updated_timestamp" if key == "timestamp" else key, item.ascending)
    if entity not in (None, "attribute"):
        raise invalid_parameter(
            f"Invalid order by key '{key}' specified. Valid keys are {_quoted(_VERSION_ORDER_KEYS)}"
        )
    if key not in _VERSION_ORDER_KEYS:
        raise invalid_parameter(
            f"Invalid attribute key '{key}' specified. Valid keys are '{_quoted(_VERSION_ORDER_KEYS)}'"
        )
    return RegistryOrder(key, item.ascending)


def wants_prompts(filters: Sequence[RegistryFilter]) -> bool:
    """MLflow hides prompts unless the filter asks for them by their tag."""
    for f in filters:
        if not (f.is_tag and f.key == "mlflow.prompt.is_prompt" and isinstance(f.value, str)):
            continue
        if (f.op == "=" and f.value.lower() == "true") or (f.op == "!=" and f.value.lower() == "false"):
            return True
    return False
