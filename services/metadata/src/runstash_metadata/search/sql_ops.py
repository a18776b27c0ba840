"""Comparisons and orderings of the search plans, the same on every database.

Pattern escapes and the comparators live here; what each database needs to behave the same is in
the SQL constructs of :mod:`runstash_metadata.store.queries.constructs` and their per-database
forms beside the query objects. A backslash escapes ``%``, ``_`` and itself in patterns on every
database; a trailing lone backslash is literal. ``ILIKE`` is SQLAlchemy's (native where it exists,
``lower() LIKE lower()`` elsewhere). MySQL has no NULLS LAST: :func:`nulls_last_key` orders instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, bindparam, case, literal_column
from sqlalchemy.sql.elements import ColumnElement

from runstash_metadata.store.queries.constructs import (
    ESCAPE,
    MAX_MOVED_LETTERS,
    PRIVATE_USE_BASE,
    ByteOrder,
    CaseSensitiveLike,
    ExactEquals,
    ExactIn,
)


def escaped_pattern(pattern: str) -> str:
    """The user's pattern with every literal ``%``, ``_`` and backslash escaped by a backslash."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == ESCAPE:
            literal_char = pattern[i + 1] if i + 1 < len(pattern) else ESCAPE
            out.append(ESCAPE + literal_char if literal_char in "%_\\" else literal_char)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _glob_pattern(escaped: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(escaped):
        c = escaped[i]
        if c == ESCAPE:
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
    if len(capitals) > MAX_MOVED_LETTERS:
        moved = _glob_pattern(escaped)
    else:
        moved = escaped.translate({ord(c): chr(PRIVATE_USE_BASE + ord(c)) for c in capitals})
    return CaseSensitiveLike(
        column,
        bindparam(None, escaped, type_=String()),
        bindparam(None, moved, type_=String()),
        literal_column(capitals),
    )


def ilike(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    return column.ilike(bindparam(None, escaped_pattern(pattern), type_=String()), escape=ESCAPE)


def equals(column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
    """Exact, case- and trailing-space-sensitive string equality on every database."""
    return ExactEquals(column, bindparam(None, value, type_=String()))


def is_one_of(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    return ExactIn(column, bindparam(None, list(values), type_=String(), expanding=True))


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


def byte_order(column: ColumnElement[Any]) -> ColumnElement[str]:
    """A string column as an ordering key in byte-wise (code point) order on every database."""
    return ByteOrder(column)


def nulls_last_key(column: ColumnElement[Any]) -> ColumnElement[int]:
    """0 for present values, 1 for NULL: sorted ascending first, missing values go last in
    both directions (MySQL has no NULLS LAST)."""
    return case((column.is_(None), 1), else_=0)
