"""experiments/search as one SQL statement (filters, ordering, paging in the database)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Select, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from runstash_metadata.identity.readable import readable
from runstash_metadata.search.experiment_rules import (
    NUMERIC_ATTRIBUTES,
    ExperimentEntity,
    ExperimentFilter,
    ExperimentOrder,
    parse_experiment_filter,
    parse_experiment_order_by,
)
from runstash_metadata.search.lifecycle import lifecycle_condition
from runstash_metadata.search.page_token import decode_offset, encode_offset
from runstash_metadata.search.plan import SearchPlan
from runstash_metadata.search.sql_ops import byte_order, compare, compare_string, nulls_last_key
from runstash_metadata.store import schema

_experiments = schema.experiments
_tags = schema.experiment_tags


def plan(
    filter_string: str | None,
    view_type: int | None,
    order_by: Sequence[str],
    max_results: int,
    page_token: str | None,
) -> SearchPlan:
    """Parse, validate and translate an experiments/search request (RunstashError on bad input)."""
    filters = parse_experiment_filter(filter_string)
    orders = parse_experiment_order_by(order_by)
    offset = decode_offset(page_token)
    return SearchPlan(
        statement=statement(filters, view_type, orders, max_results, offset),
        offset=offset,
        max_results=max_results,
        encode_token=encode_offset,
    )


def statement(
    filters: Sequence[ExperimentFilter],
    view_type: int | None,
    orders: Sequence[ExperimentOrder],
    max_results: int,
    offset: int,
) -> Select[Any]:
    where: list[ColumnElement[bool]] = readable(_experiments.c.experiment_id)
    stage = lifecycle_condition(_experiments.c.lifecycle_stage, view_type)
    if stage is not None:
        where.append(stage)
    where.extend(filter_condition(f) for f in filters)
    order_keys: list[ColumnElement[Any]] = []
    for order in orders:
        column: Column[Any] = _experiments.c[order.key]
        value: ColumnElement[Any] = byte_order(column) if order.key == "name" else column
        if column.nullable:
            order_keys.append(nulls_last_key(column))
        order_keys.append(value if order.ascending else value.desc())
    return (
        select(_experiments.c.experiment_id)
        .where(*where)
        .order_by(*order_keys)
        .limit(max_results + 1)
        .offset(offset)
    )


def filter_condition(f: ExperimentFilter) -> ColumnElement[bool]:
    if f.entity is ExperimentEntity.ATTRIBUTE:
        column = _experiments.c[f.key]
        if f.key in NUMERIC_ATTRIBUTES or f.key == "experiment_id":
            return compare(column, f.op, f.value)
        assert isinstance(f.value, str)
        return compare_string(column, f.op, f.value)
    match = [_tags.c.experiment_id == _experiments.c.experiment_id, _tags.c.key == f.key]
    if f.op == "IS NULL":
        return ~_exists(*match)
    if f.op == "IS NOT NULL":
        return _exists(*match)
    assert isinstance(f.value, str)
    return _exists(*match, compare_string(_tags.c.value, f.op, f.value))


def _exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return select(literal_column("1")).select_from(_tags).where(*conditions).exists()
