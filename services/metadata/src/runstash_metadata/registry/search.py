"""registered-models/search and model-versions/search as one SQL statement each (+ batch loads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runstash_protos import registry_pb2 as pb
from sqlalchemy import Connection, Select, Table, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from runstash_metadata.identity.readable import readable_models
from runstash_metadata.registry.rows import load_models, load_versions
from runstash_metadata.registry.search_rules import (
    Kind,
    RegistryFilter,
    RegistryOrder,
    parse_registry_filter,
    parse_registry_order_by,
    wants_prompts,
)
from runstash_metadata.registry.validation import DELETED_STAGE, PROMPT_TAG
from runstash_metadata.search.page_token import decode_offset, encode_offset
from runstash_metadata.search.sql_ops import byte_order, compare, compare_string
from runstash_metadata.store import schema_registry as r

_m = r.registered_models
_mt = r.registered_model_tags
_v = r.model_versions
_vt = r.model_version_tags
_COLUMNS = {
    "name": "name",
    "last_updated_timestamp": "last_updated_time",
    "creation_timestamp": "creation_time",
    "version_number": "version",
    "source_path": "source",
    "run_id": "run_id",
}


def search_models(
    conn: Connection,
    filter_string: str | None,
    order_by: Sequence[str],
    max_results: int,
    page_token: str | None,
) -> tuple[list[pb.RegisteredModel], str | None]:
    filters = parse_registry_filter(Kind.MODELS, filter_string)
    orders = parse_registry_order_by(Kind.MODELS, order_by)
    offset = decode_offset(page_token)
    where = [_condition(_m, _mt, f, _model_tag_match) for f in filters]
    where += readable_models(_m.c.name)  # with auth on: only the models the caller may read
    if not wants_prompts(filters):
        where.append(~_tag_exists(_mt, _model_tag_match, PROMPT_TAG, "true"))
    query = select(_m.c.name).where(*where).order_by(*_order_keys(_m, orders))
    names = [row.name for row in conn.execute(query.limit(max_results + 1).offset(offset))]
    token = encode_offset(offset + max_results) if len(names) > max_results else None
    return load_models(conn, names[:max_results], by_stage=True), token


def search_versions(
    conn: Connection,
    filter_string: str | None,
    order_by: Sequence[str],
    max_results: int,
    page_token: str | None,
) -> tuple[list[pb.ModelVersion], str | None]:
    filters = parse_registry_filter(Kind.VERSIONS, filter_string)
    orders = parse_registry_order_by(Kind.VERSIONS, order_by)
    offset = decode_offset(page_token)
    where: list[ColumnElement[bool]] = [_v.c.current_stage != DELETED_STAGE]
    where.extend(_condition(_v, _vt, f, _version_tag_match) for f in filters)
    where += readable_models(_v.c.name)
    if not wants_prompts(filters):
        where.append(~_tag_exists(_vt, _version_tag_match, PROMPT_TAG, "true"))
    query: Select[Any] = select(_v.c.name, _v.c.version).where(*where).order_by(*_order_keys(_v, orders))
    keys = [(row.name, row.version) for row in conn.execute(query.limit(max_results + 1).offset(offset))]
    token = encode_offset(offset + max_results) if len(keys) > max_results else None
    return load_versions(conn, keys[:max_results], with_aliases=False), token


def _model_tag_match(tags: Table) -> list[ColumnElement[bool]]:
    return [tags.c.name == _m.c.name]


def _version_tag_match(tags: Table) -> list[ColumnElement[bool]]:
    return [tags.c.name == _v.c.name, tags.c.version == _v.c.version]


def _condition(table: Table, tags: Table, f: RegistryFilter, match: Any) -> ColumnElement[bool]:
    if f.is_tag:
        assert isinstance(f.value, str)
        if f.key == PROMPT_TAG and f.op == "!=":
            # MLflow counts a missing prompt marker as "not a prompt" (the client filters so).
            return ~_tag_exists(tags, match, PROMPT_TAG, f.value)
        conditions = [*match(tags), tags.c.key == f.key, compare_string(tags.c.value, f.op, f.value)]
        return select(literal_column("1")).select_from(tags).where(*conditions).exists()
    column = table.c[_COLUMNS[f.key]]
    if f.key == "version_number":
        return compare(column, f.op, f.value)
    assert not isinstance(f.value, int)
    return compare_string(column, f.op, f.value)


def _tag_exists(tags: Table, match: Any, key: str, value: str) -> ColumnElement[bool]:
    conditions = [*match(tags), tags.c.key == key, tags.c.value == value]
    return select(literal_column("1")).select_from(tags).where(*conditions).exists()


def _order_keys(table: Table, orders: Sequence[RegistryOrder]) -> list[ColumnElement[Any]]:
    keys: list[ColumnElement[Any]] = []
    for order in orders:
        column = table.c[_COLUMNS[order.key]]
        value: ColumnElement[Any] = byte_order(column) if order.key == "name" else column
        keys.append(value if order.ascending else value.desc())
    return keys
