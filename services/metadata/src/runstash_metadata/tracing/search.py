"""Trace search: filter clauses -> SQL over ``trace_info`` (attribute filters are column
comparisons; tags, metadata and assessments are EXISTS lookups by key; span filters are semi-joins
on the indexed span columns), ordering, offset page tokens.

Full-text clauses (``trace.text``, ``span.content``) run under a statement timeout on the reader
(see ``Queries.trace_search_timeout``), so a slow one fails with a retryable error instead of
holding a connection, and never blocks ingest (readers take no write lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runstash_protos.errors import invalid_parameter
from sqlalchemy import ColumnElement, Connection, Select, and_, exists, func, not_, select

from runstash_metadata.search.page_token import decode_offset, encode_offset
from runstash_metadata.store.queries import Queries
from runstash_metadata.tracing.grammar import Clause, parse
from runstash_metadata.tracing.schema import (
    trace_assessments,
    trace_info,
    trace_request_metadata,
    trace_spans,
    trace_tags,
)

ti, ts = trace_info.c, trace_spans.c
MAX_RESULTS = 500
FULL_TEXT_TIMEOUT_MS = 10_000
_NUMERIC = {
    "timestamp": ti.request_time,
    "timestamp_ms": ti.request_time,
    "execution_time": ti.execution_duration,
    "execution_time_ms": ti.execution_duration,
    "end_time": ti.request_time + ti.execution_duration,
    "end_time_ms": ti.request_time + ti.execution_duration,
}
_STRING = {
    "request_id": ti.trace_id,
    "trace_id": ti.trace_id,
    "status": ti.state,
    "state": ti.state,
    "client_request_id": ti.client_request_id,
    "name": ti.name,
    "run_id": ti.run_id,
    "session_id": ti.session_id,
    "user_id": ti.user_id,
}
_ORDER = {**_NUMERIC, **_STRING, "experiment_id": ti.experiment_id}
_SPAN_COLUMNS = {"name": ts.name, "type": ts.span_type, "status": ts.status}
_TEXT_OPS = ("LIKE", "ILIKE")


def compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op in ("<", "<=", ">", ">="):
        return column.op(op)(value)  # type: ignore[no-any-return]
    if op == "LIKE":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ILIKE":
        return func.lower(column).like(func.lower(value))
    if op == "RLIKE":
        return column.regexp_match(value)  # type: ignore[no-any-return]
    if op == "IN":
        return column.in_(list(value))  # type: ignore[no-any-return]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[no-any-return]
    if op == "IS NULL":
        return column.is_(None)  # type: ignore[no-any-return]
    if op == "IS NOT NULL":
        return column.is_not(None)  # type: ignore[no-any-return]
    raise invalid_parameter(f"Invalid comparator '{op}'")


def _attribute(q: Queries, clause: Clause, experiments: Sequence[int]) -> ColumnElement[bool]:
    key = clause.key
    if key in ("text", "content"):
        return _full_text(q, clause, experiments)
    if key in _NUMERIC:
        if not isinstance(clause.value, float) or clause.op not in ("=", "!=", "<", "<=", ">", ">="):
            raise invalid_parameter(f"Invalid numeric comparison in filter string: '{clause.text}'")
        return compare(_NUMERIC[key], clause.op, int(clause.value))
    if key in _STRING:
        if clause.op in ("<", "<=", ">", ">=") or isinstance(clause.value, float):
            raise invalid_parameter(f"Invalid comparison for attribute '{key}': '{clause.text}'")
        return compare(_STRING[key], clause.op, clause.value)
    raise invalid_parameter(f"Invalid attribute key '{key}' in filter string: '{clause.text}'")


def _key_value(clause: Clause, table: Any) -> ColumnElement[bool]:
    c = table.c
    if isinstance(clause.value, float) or clause.op in ("<", "<=", ">", ">="):
        raise invalid_parameter(f"Invalid comparison in filter string: '{clause.text}'")
    found = select(c.trace_id).where(c.trace_id == ti.trace_id, c.key == clause.key)
    if clause.op == "IS NULL":
        return not_(exists(found))
    if clause.op != "IS NOT NULL":
        found = found.where(compare(c.value, clause.op, clause.value))
    return exists(found)


def _span(q: Queries, clause: Clause, experiments: Sequence[int]) -> ColumnElement[bool]:
    key = clause.key
    if key == "content":
        return _full_text(q, clause, experiments)
    if isinstance(clause.value, float):
        raise invalid_parameter(f"Invalid comparison in filter string: '{clause.text}'")
    if key in _SPAN_COLUMNS:
        condition = compare(_SPAN_COLUMNS[key], clause.op, clause.value)
    elif key.startswith("attributes.") and len(key) > len("attributes."):
        name = key[len("attributes.") :]
        if clause.op == "=":
            condition = q.span_attribute_equals(ts.attributes, name, str(clause.value))
        else:
            condition = compare(q.span_attribute(ts.attributes, name), clause.op, clause.value)
    else:
        raise invalid_parameter(f"Invalid span key '{key}' in filter string: '{clause.text}'")
    return ti.trace_id.in_(select(ts.trace_id).where(ts.experiment_id.in_(experiments), condition))


def _full_text(q: Queries, clause: Clause, experiments: Sequence[int]) -> ColumnElement[bool]:
    if clause.op not in _TEXT_OPS or not isinstance(clause.value, str):
        raise invalid_parameter(f"Full-text filters take LIKE or ILIKE: '{clause.text}'")
    insensitive = clause.op == "ILIKE"
    condition = q.span_text_match(ts.attributes, clause.value, insensitive=insensitive)
    # Correlated: checked on the spans of the traces the other conditions (and the candidates
    # below) leave, through the span primary key, never by scanning an experiment's spans.
    exact = exists(select(ts.trace_id).where(ts.trace_id == ti.trace_id, condition))
    candidates = q.trace_text_candidates(ti.trace_id, clause.value, insensitive=insensitive)
    return exact if candidates is None else and_(candidates, exact)


def _assessment(clause: Clause) -> ColumnElement[bool]:
    c = trace_assessments.c
    found = select(c.trace_id).where(c.trace_id == ti.trace_id, c.name == clause.key, c.kind == clause.entity)
    if clause.op == "IS NULL":
        return not_(exists(found))
    if clause.op != "IS NOT NULL":
        value = clause.value
        if isinstance(value, float):
            value = f"{value:g}" if value != int(value) else str(int(value))
        found = found.where(compare(c.value, clause.op, value))
    return exists(found.where(c.valid.is_(True)))


def condition(q: Queries, clause: Clause, experiments: Sequence[int]) -> ColumnElement[bool]:
    if clause.entity == "attribute":
        return _attribute(q, clause, experiments)
    if clause.entity == "tag":
        return _key_value(clause, trace_tags)
    if clause.entity == "metadata":
        return _key_value(clause, trace_request_metadata)
    if clause.entity == "span":
        return _span(q, clause, experiments)
    return _assessment(clause)


def order_columns(order_by: Sequence[str]) -> list[Any]:
    columns: list[Any] = []
    for item in order_by:
        words = item.strip().split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise invalid_parameter(f"Invalid order_by clause '{item}'.")
        entity, _, rest = words[0].partition(".")
        key = rest if rest and entity in ("attribute", "attributes", "trace") else words[0]
        column = _ORDER.get(key)
        if column is None:
            raise invalid_parameter(f"Invalid order_by entity: '{key}'")
        descending = len(words) == 2 and words[1].upper() == "DESC"
        columns.append(column.desc() if descending else column.asc())
    if not columns:
        columns.append(ti.request_time.desc())
    columns.append(ti.trace_id.asc())
    return columns


def search(
    conn: Connection,
    q: Queries,
    experiments: Sequence[int],
    filter_string: str | None,
    *,
    order_by: Sequence[str],
    max_results: int,
    page_token: str | None,
) -> tuple[list[str], str | None]:
    """One page of trace ids and the next page's token (None on the last page)."""
    clauses = parse(filter_string)
    offset = decode_offset(page_token)
    query: Select[Any] = select(ti.trace_id).where(ti.experiment_id.in_(list(experiments)))
    if clauses:
        query = query.where(and_(*(condition(q, c, experiments) for c in clauses)))
    query = query.order_by(*order_columns(order_by)).offset(offset).limit(max_results + 1)
    full_text = any(c.key in ("text", "content") for c in clauses)
    if full_text:
        with q.trace_search_timeout(conn, FULL_TEXT_TIMEOUT_MS):
            ids = [row[0] for row in conn.execute(query)]
    else:
        ids = [row[0] for row in conn.execute(query)]
    if len(ids) > max_results:
        return ids[:max_results], encode_offset(offset + max_results)
    return ids, None
