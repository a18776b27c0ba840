"""runs/search as one SQL statement: filters, ordering and paging all happen in the database.

Shape of the statement (one uncorrelated IN semi-join per filter clause, one LEFT JOIN per
ordering on a metric/param/tag):

    SELECT runs.run_uuid FROM runs
      LEFT JOIN latest_metrics AS order_1 ON order_1.run_uuid = runs.run_uuid AND order_1.key = :k
    WHERE runs.experiment_id IN (...) AND runs.lifecycle_stage = 'active'
      AND runs.run_uuid IN (SELECT run_uuid FROM latest_metrics
                            WHERE key = :k AND value > :v)     -- ix_latest_metrics_key_value
      AND runs.run_uuid IN (SELECT run_uuid FROM params WHERE key = :k AND value = :v)
    ORDER BY <NaN/missing last>, order_1.value DESC, runs.start_time DESC, runs.run_uuid
    LIMIT :max_results + 1 OFFSET :offset

Missing keys are false for every comparator because a run without the key is simply not in the
sub-select; IS NULL is the NOT IN of the key's presence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Select, and_, case, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from runstash_metadata.identity.readable import readable
from runstash_metadata.search.lifecycle import lifecycle_condition
from runstash_metadata.search.page_token import decode_offset, encode_offset
from runstash_metadata.search.plan import SearchPlan
from runstash_metadata.search.run_rules import (
    NUMERIC_ATTRIBUTES,
    RunEntity,
    RunFilter,
    RunOrder,
    parse_run_filter,
    parse_run_order_by,
)
from runstash_metadata.search.sql_ops import byte_order, compare, compare_string, nulls_last_key
from runstash_metadata.store import schema

DATASET_CONTEXT_TAG = "mlflow.data.context"

_runs = schema.runs
_ATTRIBUTE_COLUMNS: dict[str, Column[Any]] = {
    "run_id": _runs.c.run_uuid,
    "run_name": _runs.c.name,
    "status": _runs.c.status,
    "user_id": _runs.c.user_id,
    "artifact_uri": _runs.c.artifact_uri,
    "start_time": _runs.c.start_time,
    "end_time": _runs.c.end_time,
}


def plan(  # noqa: PLR0917 - positional by the store contract
    experiment_ids: Sequence[int],
    filter_string: str | None,
    view_type: int | None,
    order_by: Sequence[str],
    max_results: int,
    page_token: str | None,
) -> SearchPlan:
    """Parse, validate and translate a runs/search request (raises RunstashError on bad input)."""
    filters = parse_run_filter(filter_string)
    orders = parse_run_order_by(order_by)
    offset = decode_offset(page_token)
    return SearchPlan(
        statement=statement(
            experiment_ids=experiment_ids,
            filters=filters,
            view_type=view_type,
            orders=orders,
            max_results=max_results,
            offset=offset,
        ),
        offset=offset,
        max_results=max_results,
        encode_token=encode_offset,
        tiers=metric_tiers(_conditions(experiment_ids, filters, view_type), orders),
    )


def _conditions(
    experiment_ids: Sequence[int], filters: Sequence[RunFilter], view_type: int | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [_runs.c.experiment_id.in_([int(i) for i in experiment_ids])]
    where += readable(_runs.c.experiment_id)
    stage = lifecycle_condition(_runs.c.lifecycle_stage, view_type)
    if stage is not None:
        where.append(stage)
    where.extend(filter_condition(f) for f in filters)
    return where


def metric_tiers(where: Sequence[ColumnElement[bool]], orders: Sequence[RunOrder]) -> tuple[Select[Any], ...]:
    """For an order led by a metric: its three tiers (real values, NaN, no value), or () for any
    other order.

    In one statement the missing-last rank (a CASE over a LEFT JOIN) leads the ORDER BY, so the
    database joins and sorts every matching run before taking a page (a hash join over the whole
    experiment). Per tier the rank is constant: the real-value tier is an inner join read in
    (key, value) index order, probing the filters per run until the page is full, and the other
    tiers are only read when it runs out."""
    if not orders or orders[0].entity is not RunEntity.METRIC:
        return ()
    first = orders[0]
    lm = schema.latest_metrics.alias("order_1")
    joined: FromClause = _runs.join(lm, and_(lm.c.run_uuid == _runs.c.run_uuid, lm.c.key == first.key))
    has_key = select(schema.latest_metrics.c.run_uuid).where(
        schema.latest_metrics.c.run_uuid == _runs.c.run_uuid, schema.latest_metrics.c.key == first.key
    )
    value = lm.c.value if first.ascending else lm.c.value.desc()
    tiers = []
    for base, condition, leading in (
        (joined, lm.c.is_nan == false(), [value]),
        (joined, lm.c.is_nan == true(), []),
        (_runs, ~has_key.exists(), []),
    ):
        source, rest = base, list[ColumnElement[Any]]()
        for n, order in enumerate(orders[1:], start=2):
            source, keys = _order_keys(source, order, n)
            rest.extend(keys)
        tier = select(_runs.c.run_uuid).select_from(source).where(*where, condition)
        tiers.append(tier.order_by(*leading, *rest))
    return tuple(tiers)


def statement(
    *,
    experiment_ids: Sequence[int],
    filters: Sequence[RunFilter],
    view_type: int | None,
    orders: Sequence[RunOrder],
    max_results: int,
    offset: int,
) -> Select[Any]:
    where = _conditions(experiment_ids, filters, view_type)
    source: FromClause = _runs
    order_keys: list[ColumnElement[Any]] = []
    for n, order in enumerate(orders, start=1):
        source, keys = _order_keys(source, order, n)
        order_keys.extend(keys)
    return (
        select(_runs.c.run_uuid)
        .select_from(source)
        .where(*where)
        .order_by(*order_keys)
        .limit(max_results + 1)
        .offset(offset)
    )


def filter_condition(f: RunFilter) -> ColumnElement[bool]:
    if f.entity is RunEntity.ATTRIBUTE:
        column = _ATTRIBUTE_COLUMNS[f.key]
        if f.key in NUMERIC_ATTRIBUTES:
            return compare(column, f.op, f.value)
        assert isinstance(f.value, str | tuple)
        return compare_string(column, f.op, f.value)
    if f.entity is RunEntity.METRIC:
        assert isinstance(f.value, float)
        return _metric_condition(f.key, f.op, f.value)
    if f.entity is RunEntity.DATASET:
        assert isinstance(f.value, str | tuple)
        return _dataset_condition(f.key, f.op, f.value)
    table = schema.params if f.entity is RunEntity.PARAM else schema.tags
    has_key = table.c.key == f.key
    if f.op == "IS NULL":
        return ~_run_in(table.c.run_uuid, table, has_key)
    if f.op == "IS NOT NULL":
        return _run_in(table.c.run_uuid, table, has_key)
    assert isinstance(f.value, str)
    return _run_in(table.c.run_uuid, table, has_key, compare_string(table.c.value, f.op, f.value))


def _run_in(
    run_column: ColumnElement[Any], table: FromClause, *conditions: ColumnElement[bool]
) -> ColumnElement[bool]:
    """``runs.run_uuid IN (SELECT <run_column> FROM <table> WHERE ...)``: uncorrelated, so every
    database can drive it from the (key, value) index and semi-join (MariaDB and SQLite run a
    correlated EXISTS once per run)."""
    return _runs.c.run_uuid.in_(select(run_column).select_from(table).where(*conditions))


def metric_value_condition(
    value: ColumnElement[Any], is_nan: ColumnElement[Any], op: str, operand: float
) -> ColumnElement[bool]:
    """``value <op> operand`` where a NaN (stored as 0 with is_nan) fails everything but ``!=``.

    The is_nan test is left out when the stored 0 already gives the right answer, so the common
    ``> 0.5`` stays a pure range scan over the (key, value) index."""
    zero_passes = _python_compare(0.0, op, operand)
    plain = compare(value, op, operand)
    if op == "!=":
        return plain if zero_passes else or_(plain, is_nan == true())
    return and_(plain, is_nan == false()) if zero_passes else plain


def _python_compare(left: float, op: str, right: float) -> bool:
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _metric_condition(key: str, op: str, operand: float) -> ColumnElement[bool]:
    lm = schema.latest_metrics
    return _run_in(
        lm.c.run_uuid,
        lm,
        lm.c.key == key,
        metric_value_condition(lm.c.value, lm.c.is_nan, op, operand),
    )


def _dataset_condition(key: str, op: str, value: str | tuple[str, ...]) -> ColumnElement[bool]:
    """True when any dataset input of the run satisfies the clause."""
    inputs, datasets = schema.inputs, schema.datasets
    joined: FromClause = inputs.join(datasets, datasets.c.dataset_uuid == inputs.c.source_id)
    conditions = [
        inputs.c.destination_type == schema.INPUT_DESTINATION_RUN,
        inputs.c.source_type == schema.INPUT_SOURCE_DATASET,
    ]
    if key == "context":
        tags = schema.input_tags
        joined = joined.join(tags, tags.c.input_uuid == inputs.c.input_uuid)
        conditions += [tags.c.name == DATASET_CONTEXT_TAG, compare_string(tags.c.value, op, value)]
    else:
        conditions.append(compare_string(datasets.c[key], op, value))
    return _run_in(inputs.c.destination_id, joined, *conditions)


def _order_keys(source: FromClause, order: RunOrder, n: int) -> tuple[FromClause, list[ColumnElement[Any]]]:
    """The ORDER BY terms for one ordering (a missing-last key, then the value) and the FROM
    clause with whatever it needs joined."""
    if order.entity is RunEntity.ATTRIBUTE:
        column = _ATTRIBUTE_COLUMNS[order.key]
        value: ColumnElement[Any] = column
        if order.key not in NUMERIC_ATTRIBUTES and order.key != "run_id":
            value = byte_order(column)
        # start_time is always set (MLflow defaults it to 0); leaving out its missing-last key
        # lets PostgreSQL read the default order off ix_runs_exp_stage_start.
        keys = [nulls_last_key(column)] if column.nullable and order.key != "start_time" else []
        return source, [*keys, value if order.ascending else value.desc()]
    if order.entity is RunEntity.METRIC:
        lm = schema.latest_metrics.alias(f"order_{n}")
        source = source.outerjoin(lm, and_(lm.c.run_uuid == _runs.c.run_uuid, lm.c.key == order.key))
        # Real numbers, then NaN, then missing - in both directions.
        rank = case((lm.c.run_uuid.is_(None), 2), (lm.c.is_nan == true(), 1), else_=0)
        return source, [rank, lm.c.value if order.ascending else lm.c.value.desc()]
    table = (schema.params if order.entity is RunEntity.PARAM else schema.tags).alias(f"order_{n}")
    source = source.outerjoin(table, and_(table.c.run_uuid == _runs.c.run_uuid, table.c.key == order.key))
    ordered = byte_order(table.c.value)
    return source, [nulls_last_key(table.c.value), ordered if order.ascending else ordered.desc()]
