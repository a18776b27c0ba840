"""Comparisons and orderings that must behave the same on SQLite, PostgreSQL and MySQL/MariaDB.

The plan is built before the store picks a connection, so dialect differences are compile-time
constructs (``@compiles``), one place for all of them:

* ``LIKE`` is case-sensitive. PostgreSQL's is; MySQL/MariaDB's is too because every table uses
  ``utf8mb4_bin`` (store/schema.py). SQLite's LIKE folds ASCII case and the store's engine is not
  ours to set ``PRAGMA case_sensitive_like`` on, so SQLite gets the plain LIKE (cheap prefilter)
  AND the same LIKE over both sides with the capitals of the pattern's letters replaced by
  private-use characters (nested ``replace()`` on the column, ``str.translate`` on the pattern):
  LIKE cannot fold those, and one character stays one character, so ``_`` still matches exactly
  one. SQLite's parser cannot nest more than ~24 calls, so a pattern naming more than 16 distinct
  letters falls back to an exact GLOB translation instead.
* ``ILIKE`` is SQLAlchemy's (native on PostgreSQL, ``lower() LIKE lower()`` elsewhere).
* A backslash escapes ``%``, ``_`` and itself in patterns on every database (PostgreSQL's and
  MySQL's default; SQLite gets an explicit ESCAPE); a trailing lone backslash is literal.
* String ordering is byte-wise: ``COLLATE "C"`` on PostgreSQL; SQLite's BINARY and MySQL's
  ``utf8mb4_bin`` already order by code point, which is UTF-8 byte order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, String, bindparam, case, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

_ESCAPE = "\\"
_PRIVATE_USE_BASE = 0xF0000  # Supplementary Private Use Area-A: never folded by LIKE
# SQLite's parser stack overflows at ~24 nested replace() calls inside a correlated EXISTS.
_MAX_MOVED_LETTERS = 16


def escaped_pattern(pattern: str) -> str:
    """The user's pattern with every literal ``%``, ``_`` and backslash escaped by a backslash."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == _ESCAPE:
            literal_char = pattern[i + 1] if i + 1 < len(pattern) else _ESCAPE
            out.append(_ESCAPE + literal_char if literal_char in "%_\\" else literal_char)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _case_sensitive_like(FunctionElement[bool]):
    """(column, escaped pattern, SQLite's second pattern, the capitals it moved): the second
    pattern is the escaped one with those capitals moved to private use, or its GLOB form when
    there are too many letters to move."""

    name = "case_sensitive_like"
    type = Boolean()
    inherit_cache = True


@compiles(_case_sensitive_like)
def _like_default(element: _case_sensitive_like, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, _, _ = element.clauses.clauses
    # Parenthesised: dialects without a native boolean append "= 1" to a boolean function.
    return f"({compiler.process(column.like(pattern, escape=_ESCAPE), **kw)})"


@compiles(_case_sensitive_like, "sqlite")
def _like_sqlite(element: _case_sensitive_like, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, moved_pattern, letters = element.clauses.clauses
    column_sql = compiler.process(column, **kw)
    plain = f"{column_sql} LIKE {compiler.process(pattern, **kw)} ESCAPE '\\'"
    # The letters are part of the SQL text (a literal_column), so they are part of the cache key.
    capitals = str(letters.name)
    if not capitals:
        return f"({plain})"
    if len(capitals) > _MAX_MOVED_LETTERS:
        # Too many nested replace() calls for SQLite's parser stack: GLOB (case-sensitive, and
        # exact once translated) is the fallback for these rare, letter-rich patterns.
        return f"({plain} AND {column_sql} GLOB {compiler.process(moved_pattern, **kw)})"
    moved_column_sql = column_sql
    for c in capitals:
        moved_column_sql = f"replace({moved_column_sql}, '{c}', char({_PRIVATE_USE_BASE + ord(c)}))"
    return f"({plain} AND {moved_column_sql} LIKE {compiler.process(moved_pattern, **kw)} ESCAPE '\\')"


def _glob_pattern(escaped: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(escaped):
        c = escaped[i]
        if c == _ESCAPE:
            literal_char = escaped[i + 1]
            out.append(f"[{literal_char}]" if literal_char in "*?[" else literal_char)
            i += 2
            continue
        out.append({"%": "*", "_": "?"}.get(c, f"[{c}]" if c in "*?[" else c))
        i += 1
    return "".join(out)


def like(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    escaped = escaped_pattern(pattern)
    # Only the letters the pattern names can be matched in the wrong case.
    capitals = "".join(sorted({c.upper() for c in escaped if c.isascii() and c.isalpha()}))
    if len(capitals) > _MAX_MOVED_LETTERS:
        moved = _glob_pattern(escaped)
    else:
        moved = escaped.translate({ord(c): chr(_PRIVATE_USE_BASE + ord(c)) for c in capitals})
    return _case_sensitive_like(
        column,
        bindparam(None, escaped, type_=String()),
        bindparam(None, moved, type_=String()),
        literal_column(capitals),
    )


def ilike(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    return column.ilike(bindparam(None, escaped_pattern(pattern), type_=String()), escape=_ESCAPE)


class _exact_equals(FunctionElement[bool]):
    """(column, value): ``column = value``."""

    name = "exact_equals"
    type = Boolean()
    inherit_cache = True


class _exact_in(FunctionElement[bool]):
    """(column, expanding list): ``column IN (values)``. A class of its own: the cache key does
    not tell an expanding bind from a scalar one."""

    name = "exact_in"
    type = Boolean()
    inherit_cache = True


def _match(element: _exact_equals | _exact_in, column: Any, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = column.in_(value) if isinstance(element, _exact_in) else column == value
    return result


@compiles(_exact_equals)
@compiles(_exact_in)
def _exact_default(element: _exact_equals | _exact_in, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = element.clauses.clauses
    return f"({compiler.process(_match(element, column, value), **kw)})"


@compiles(_exact_equals, "mysql")
@compiles(_exact_equals, "mariadb")
@compiles(_exact_in, "mysql")
@compiles(_exact_in, "mariadb")
def _exact_mysql(element: _exact_equals | _exact_in, compiler: SQLCompiler, **kw: Any) -> str:
    # utf8mb4_bin is a PAD SPACE collation: 'alpha' = 'alpha ' holds. The plain test keeps the
    # index; the BINARY one makes trailing spaces count, as on the other databases.
    column, value = element.clauses.clauses
    plain = compiler.process(_match(element, column, value), **kw)
    exact = compiler.process(_match(element, func.binary(column), value), **kw)
    return f"({plain} AND {exact})"


def equals(column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
    """Exact, case- and trailing-space-sensitive string equality on every database."""
    return _exact_equals(column, bindparam(None, value, type_=String()))


def is_one_of(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    return _exact_in(column, bindparam(None, list(values), type_=String(), expanding=True))


def compare_string(column: ColumnElement[Any], op: str, value: str | tuple[str, ...]) -> ColumnElement[bool]:
    """``column <op> value`` for the string comparators (=, !=, LIKE, ILIKE, IN, NOT IN)."""
    if isinstance(value, tuple):
        matched = is_one_of(column, value)
        # NOT over the match keeps SQL's NULL semantics: a NULL column satisfies neither.
        return matched if op == "IN" else ~matched
    if op == "LIKE":
        return like(column, value)
    if op == "ILIKE":
        return ilike(column, value)
    matched = equals(column, value)
    return matched if op == "=" else ~matched


def compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    """``column <op> value`` for = != < <= > >= IN NOT IN."""
    result: ColumnElement[bool]
    if op == "=":
        result = column == value
    elif op == "!=":
        result = column != value
    elif op == "<":
        result = column < value
    elif op == "<=":
        result = column <= value
    elif op == ">":
        result = column > value
    elif op == ">=":
        result = column >= value
    else:
        return _compare_list(column, op, value)
    return result


def _compare_list(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    raise AssertionError(f"unexpected comparator {op}")  # the rules reject everything else


class _byte_order(FunctionElement[str]):
    name = "byte_order"
    type = String()
    inherit_cache = True


@compiles(_byte_order)
def _byte_order_default(element: _byte_order, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(_byte_order, "postgresql")
def _byte_order_postgresql(element: _byte_order, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses.clauses[0], **kw)}) COLLATE "C"'


def byte_order(column: ColumnElement[Any]) -> ColumnElement[str]:
    """A string column as an ordering key in byte-wise (code point) order on every database."""
    return _byte_order(column)


def nulls_last_key(column: ColumnElement[Any]) -> ColumnElement[int]:
    """0 for present values, 1 for NULL: sorted ascending first, missing values go last in
    both directions (MySQL has no NULLS LAST)."""
    return case((column.is_(None), 1), else_=0)
