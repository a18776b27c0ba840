"""PostgreSQL trace store paths: bulk writes, and the full-text candidates of a trace search.

Bulk writes: a whole batch of rows as ONE statement with ONE parameter.

The rows travel as a single JSON array (serialized by orjson in C) that the server unpacks with
``json_to_recordset``; the statement text is fixed per (table, columns, conflict handling), so it
is parsed and planned like any small statement no matter how many rows ride along. Compared with
SQLAlchemy's multi-row VALUES (one bound parameter per cell, rendered and adapted in Python per
call) this takes most of the client-side work off the span ingest path. Binary columns travel as
hex text and are decoded by the server; JSON columns are typed ``jsonb`` like their columns.

Full text: ``trace_span_text`` (one trigram-indexed row per trace and write, see ddl.py) gives the
traces whose spans may contain the pattern's longest literal run; the exact pattern is then
checked on those traces' spans by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    LargeBinary,
    Select,
    Table,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause

from runstash_metadata.store.queries.base import Queries

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
# Shorter literals make trigram lookups match nearly everything: no shortcut then.
MIN_LITERAL = 3
_WILDCARDS = re.compile(r"[%_]")


def _record_type(table: Table, name: str) -> str:
    column_type = table.c[name].type
    if isinstance(column_type, LargeBinary):
        return "text"
    if isinstance(column_type, JSON):
        return "jsonb"
    return str(column_type.compile(dialect=_DIALECT))


def _select_item(table: Table, name: str) -> str:
    if isinstance(table.c[name].type, LargeBinary):
        return f"decode(r.{name}, 'hex')"
    return f"r.{name}"


@lru_cache(maxsize=64)
def _statement(
    table: Table,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    update: tuple[str, ...],
    returning: str | None = None,
) -> TextClause:
    """The INSERT of a JSON batch; without ``conflict`` a plain INSERT (no arbiter index probe and
    no speculative insertion per row: the caller knows the keys are new)."""
    record = ", ".join(f"{c} {_record_type(table, c)}" for c in columns)
    items = ", ".join(_select_item(table, c) for c in columns)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {items} "
        f"FROM json_to_recordset(CAST(:rows AS json)) AS r({record})"
    )
    if conflict:
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in update)
        action = f"DO UPDATE SET {sets}" if update else "DO NOTHING"
        sql += f" ON CONFLICT ({', '.join(conflict)}) {action}"
    if returning:
        sql += f" RETURNING {returning}"
    return text(sql)


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def bulk_write(
    conn: Connection,
    table: Table,
    conflict: Sequence[str],
    update: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Insert ``rows`` (dicts with the same keys); on a ``conflict`` key, overwrite ``update``
    (or skip the row when ``update`` is empty). Rows must not repeat a conflict key."""
    if not rows:
        return
    statement = _statement(table, tuple(rows[0]), tuple(conflict), tuple(update))
    conn.execute(statement, {"rows": _payload(rows)})


def _payload(rows: Sequence[Mapping[str, Any]]) -> str:
    return orjson.dumps(rows, default=_default).decode()


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A plain INSERT of the batch (its keys are known to be new)."""
    if rows:
        conn.execute(_statement(table, tuple(rows[0]), (), ()), {"rows": _payload(rows)})


def insert_new(conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]]) -> set[Any]:
    """Insert the rows whose ``key`` is not stored; the keys inserted. A row another transaction
    is inserting waits for it (the unique index) and then counts as stored, so a key returned
    here is this transaction's alone until it commits."""
    if not rows:
        return set()
    statement = _statement(table, tuple(rows[0]), (key,), (), key)
    return {row[0] for row in conn.execute(statement, {"rows": _payload(rows)})}


def text_candidates(trace_id: Any, pattern: str, *, insensitive: bool) -> ColumnElement[bool] | None:
    """``trace_id IN (traces whose span text contains the pattern's longest literal run)``, or
    None when the pattern has no usable literal (or escapes, which would split literals wrongly)."""
    if "\\" in pattern:
        return None
    literal = max(_WILDCARDS.split(pattern), key=len)
    if len(literal) < MIN_LITERAL:
        return None
    doc: ColumnElement[str] = literal_column("trace_span_text.doc")
    contains = f"%{literal}%"
    match = doc.ilike(contains) if insensitive else doc.like(contains)
    found: Select[Any] = select(literal_column("trace_span_text.trace_id")).select_from(
        text("trace_span_text")
    )
    found = found.where(match)
    return trace_id.in_(found)  # type: ignore[no-any-return]


class PostgresTraceQueries(Queries):
    """The trace paths of PostgresQueries (kept here so postgres.py stays about runs and metrics)."""

    def bulk_write(
        self,
        conn: Connection,
        table: Table,
        conflict: Sequence[str],
        update: Sequence[str],
        rows: Sequence[Mapping[str, Any]],
    ) -> None:
        bulk_write(conn, table, conflict, update, rows)

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        insert_rows(conn, table, rows)

    def insert_new(
        self, conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]]
    ) -> set[Any] | None:
        return insert_new(conn, table, key, rows)

    def trace_text_candidates(
        self, trace_id: Any, pattern: str, *, insensitive: bool
    ) -> ColumnElement[bool] | None:
        return text_candidates(trace_id, pattern, insensitive=insensitive)
