"""logged-models/search as one SQL statement.

A metric clause compares the model's *latest* value of that metric (greatest timestamp, then
step, then smallest run id), counting only points logged against the request's ``datasets`` when
any are given; with datasets and no metric clause, only models having some metric on those
datasets match. Page tokens carry the request (experiment ids, filter, order_by) and must match it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runstash_protos.errors import invalid_parameter
from sqlalchemy import Column, Select, and_, case, literal_column, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, NamedFromClause

from runstash_metadata.identity.readable import readable
from runstash_metadata.search.logged_model_rules import (
    NUMERIC_ATTRIBUTES,
    DatasetFilter,
    DatasetMessage,
    LoggedModelEntity,
    LoggedModelFilter,
    LoggedModelOrder,
    OrderByMessage,
    order_by_token_form,
    parse_datasets,
    parse_logged_model_filter,
    parse_logged_model_order_by,
)
from runstash_metadata.search.page_token import decode_logged_model_token, encode_logged_model_token
from runstash_metadata.search.plan import SearchPlan
from runstash_metadata.search.runs import metric_value_condition
from runstash_metadata.search.sql_ops import byte_order, compare, compare_string, nulls_last_key
from runstash_metadata.store import schema

DEFAULT_MAX_RESULTS = 50

_models = schema.logged_models
_metrics = schema.logged_model_metrics
_ATTRIBUTE_COLUMNS: dict[str, Column[Any]] = {
    "name": _models.c.name,
    "model_id": _models.c.model_id,
    "model_type": _models.c.model_type,
    "source_run_id": _models.c.source_run_id,
    "status": _models.c.status,
    "creation_timestamp": _models.c.creation_timestamp_ms,
    "last_updated_timestamp": _models.c.last_updated_timestamp_ms,
}


def plan(  # noqa: PLR0917 - positional by the store contract
    experiment_ids: Sequence[int | str],
    filter_string: str | None,
    datasets: Sequence[DatasetMessage],
    order_by: Sequence[OrderByMessage],
    max_results: int | None,
    page_token: str | None,
) -> SearchPlan:
    """Parse, validate and translate a logged-models/search request (RunstashError on bad input)."""
    dataset_filters = parse_datasets(datasets)
    filters = parse_logged_model_filter(filter_string)
    orders = parse_logged_model_order_by(order_by)
    token_ids = [str(i) for i in experiment_ids]
    token_filter = filter_string or None
    token_order = order_by_token_form(order_by) or None
    offset = decode_logged_model_token(page_token, token_ids, token_filter, token_order)
    page_size = max_results or DEFAULT_MAX_RESULTS
    ids = [_experiment_id(i) for i in experiment_ids]
    return SearchPlan(
        statement=statement(
            experiment_ids=ids,
            filters=filters,
            datasets=dataset_filters,
            orders=orders,
            max_results=page_size,
            offset=offset,
        ),
        offset=offset,
        max_results=page_size,
        encode_token=lambda next_offset: encode_logged_model_token(
            token_ids, token_filter, token_order, next_offset
        ),
    )


def _experiment_id(value: int | str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid_parameter(
            f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer."
        ) from None


def statement(
    *,
    experiment_ids: Sequence[int],
    filters: Sequence[LoggedModelFilter],
    datasets: Sequence[DatasetFilter],
    orders: Sequence[LoggedModelOrder],
    max_results: int,
    offset: int,
) -> Select[Any]:
    where: list[ColumnElement[bool]] = [
        _models.c.experiment_id.in_(list(experiment_ids)),
        _models.c.lifecycle_stage != schema.DELETED,
        *readable(_models.c.experiment_id),
    ]
    where.extend(_filter_condition(f, datasets) for f in filters)
    if datasets and not any(f.entity is LoggedModelEntity.METRIC for f in filters):
        m = _metrics.alias("on_datasets")
        where.append(_exists(m, m.c.model_id == _models.c.model_id, _on_datasets(m, datasets)))
    source: FromClause = _models
    order_keys: list[ColumnElement[Any]] = []
    for n, order in enumerate(orders, start=1):
        source, keys = _order_keys(source, order, n)
        order_keys.extend(keys)
    return (
        select(_models.c.model_id)
        .select_from(source)
        .where(*where)
        .order_by(*order_keys)
        .limit(max_results + 1)
        .offset(offset)
    )


def _exists(table: FromClause, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return select(literal_column("1")).select_from(table).where(*conditions).exists()


def _on_datasets(m: NamedFromClause, datasets: Sequence[DatasetFilter]) -> ColumnElement[bool]:
    return or_(
        *(
            m.c.dataset_name == d.name
            if d.digest is None
            else and_(m.c.dataset_name == d.name, m.c.dataset_digest == d.digest)
            for d in datasets
        )
    )


def _filter_condition(f: LoggedModelFilter, datasets: Sequence[DatasetFilter]) -> ColumnElement[bool]:
    if f.entity is LoggedModelEntity.ATTRIBUTE:
        column = _ATTRIBUTE_COLUMNS[f.key]
        if f.key in NUMERIC_ATTRIBUTES or f.key == "status":
            return compare(column, f.op, f.value)
        assert isinstance(f.value, str | tuple)
        return compare_string(column, f.op, f.value)  # type: ignore[arg-type]
    if f.entity is LoggedModelEntity.METRIC:
        assert isinstance(f.value, float)
        m = _metrics.alias("filter_metric")
        return _exists(
            m,
            *_latest_point(m, f.key, datasets),
            metric_value_condition(m.c.metric_value, m.c.is_nan, f.op, f.value),
        )
    if f.entity is LoggedModelEntity.PARAM:
        params = schema.logged_model_params
        key, value = params.c.param_key, params.c.param_value
        table: FromClause = params
        owner = params.c.model_id
    else:
        tags = schema.logged_model_tags
        key, value = tags.c.tag_key, tags.c.tag_value
        table = tags
        owner = tags.c.model_id
    assert isinstance(f.value, str | tuple)
    return _exists(
        table,
        owner == _models.c.model_id,
        key == f.key,
        compare_string(value, f.op, f.value),  # type: ignore[arg-type]
    )


def _latest_point(
    m: NamedFromClause, key: str, datasets: Sequence[DatasetFilter]
) -> list[ColumnElement[bool]]:
    """Conditions making row ``m`` the model's latest point of ``key`` (on ``datasets``, if any)."""
    newer = _metrics.alias(f"{m.name}_newer")
    same_series = [newer.c.model_id == m.c.model_id, newer.c.metric_name == key]
    conditions = [m.c.model_id == _models.c.model_id, m.c.metric_name == key]
    if datasets:
        conditions.append(_on_datasets(m, datasets))
        same_series.append(_on_datasets(newer, datasets))
    is_newer = or_(
        newer.c.metric_timestamp_ms > m.c.metric_timestamp_ms,
        and_(
            newer.c.metric_timestamp_ms == m.c.metric_timestamp_ms,
            or_(
                newer.c.metric_step > m.c.metric_step,
                and_(newer.c.metric_step == m.c.metric_step, newer.c.run_id < m.c.run_id),
            ),
        ),
    )
    conditions.append(~_exists(newer, *same_series, is_newer))
    return conditions


def _order_keys(
    source: FromClause, order: LoggedModelOrder, n: int
) -> tuple[FromClause, list[ColumnElement[Any]]]:
    if not order.is_metric:
        column = _ATTRIBUTE_COLUMNS[order.key]
        value: ColumnElement[Any] = column
        if order.key in ("name", "model_type", "source_run_id"):
            value = byte_order(column)
        keys = [nulls_last_key(column)] if column.nullable else []
        return source, [*keys, value if order.ascending else value.desc()]
    datasets = (
        [DatasetFilter(order.dataset_name, order.dataset_digest)] if order.dataset_name is not None else []
    )
    m = _metrics.alias(f"order_{n}_point")
    latest = (
        select(m.c.model_id, m.c.metric_value, m.c.is_nan)
        .where(*_latest_point(m, order.key, datasets)[1:])
        .subquery(f"order_{n}")
    )
    source = source.outerjoin(latest, latest.c.model_id == _models.c.model_id)
    rank = case((latest.c.model_id.is_(None), 2), (latest.c.is_nan == true(), 1), else_=0)
    ordered = latest.c.metric_value
    return source, [rank, ordered if order.ascending else ordered.desc()]
