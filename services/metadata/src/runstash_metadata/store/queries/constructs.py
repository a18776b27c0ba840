"""Search comparisons that must behave the same on every database, as SQL constructs.

The search plan is built before the store picks a connection, so these are compile-time constructs
(``@compiles``): the portable form is compiled here, and each database's own form is registered
beside its query object (:mod:`.sqlite`, :mod:`.postgres`, :mod:`.mysql`; importing this package
registers them all). :mod:`runstash_metadata.search.sql_ops` builds them from the parsed filter.

* ``LIKE`` is case-sensitive everywhere: SQLite gets a second, unfoldable LIKE (see :mod:`.sqlite`).
* ``=`` and ``IN`` on strings are exact: MySQL's ``utf8mb4_bin`` pads spaces (see :mod:`.mysql`).
* String ordering is byte-wise: PostgreSQL orders by ``COLLATE "C"`` (see :mod:`.postgres`);
  SQLite's BINARY and MySQL's ``utf8mb4_bin`` already order by code point (UTF-8 byte order).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

ESCAPE = "\\"
PRIVATE_USE_BASE = 0xF0000  # Supplementary Private Use Area-A: never folded by LIKE
# SQLite's parser stack overflows at ~24 nested replace() calls inside a correlated EXISTS.
MAX_MOVED_LETTERS = 16


class CaseSensitiveLike(FunctionElement[bool]):
    """(column, escaped pattern, SQLite's second pattern, the capitals it moved): the second
    pattern is the escaped one with those capitals moved to private use, or its GLOB form when
    there are too many letters to move."""

    name = "case_sensitive_like"
    type = Boolean()
    inherit_cache = True


@compiles(CaseSensitiveLike)
def _like_default(element: CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, _, _ = element.clauses.clauses
    # Parenthesised: dialects without a native boolean append "= 1" to a boolean function.
    return f"({compiler.process(column.like(pattern, escape=ESCAPE), **kw)})"


class ExactEquals(FunctionElement[bool]):
    """(column, value): ``column = value``."""

    name = "exact_equals"
    type = Boolean()
    inherit_cache = True


class ExactIn(FunctionElement[bool]):
    """(column, expanding list): ``column IN (values)``. A class of its own: the cache key does
    not tell an expanding bind from a scalar one."""

    name = "exact_in"
    type = Boolean()
    inherit_cache = True


def exact_match(element: ExactEquals | ExactIn, column: Any, value: Any) -> ColumnElement[bool]:
    """The plain comparison an :class:`ExactEquals` / :class:`ExactIn` stands for."""
    result: ColumnElement[bool] = column.in_(value) if isinstance(element, ExactIn) else column == value
    return result


@compiles(ExactEquals)
@compiles(ExactIn)
def _exact_default(element: ExactEquals | ExactIn, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = element.clauses.clauses
    return f"({compiler.process(exact_match(element, column, value), **kw)})"


class ByteOrder(FunctionElement[str]):
    """A string column as an ordering key in byte-wise (code point) order."""

    name = "byte_order"
    type = String()
    inherit_cache = True


@compiles(ByteOrder)
def _byte_order_default(element: ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses.clauses[0], **kw)
