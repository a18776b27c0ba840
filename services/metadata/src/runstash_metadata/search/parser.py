"""The shared filter and order_by grammar (search-grammar.md §1-2) for runs and experiments.

``parse_filter`` turns ``metrics.acc > 0.5 AND params.lr = '0.01'`` into a list of
:class:`Comparison`; it knows nothing about which entities or keys exist (that is the per-entity
rules' job) and fails with MLflow's ``Invalid clause(s) in filter string: ...`` message.
"""

from __future__ import annotations

import re

from runstash_protos.errors import invalid_parameter as invalid

from runstash_metadata.search.ast import Comparison, OrderItem
from runstash_metadata.search.lexer import Cursor, SyntaxFailure, find_unquoted

_AND_SEPARATOR = re.compile(r"\s+AND\s", re.IGNORECASE)


# Each clause is a join or an EXISTS in the search statement; hundreds of them take a database's
# planner into seconds (PostgreSQL: 200 clauses ran into the 25 s statement timeout), so the
# filter is refused at once instead (measured on PostgreSQL under load: 10 clauses 0.25 s, 25 about
# 1 s, 50 about 7 s). Real filters (UI, clients) hold a handful.
MAX_FILTER_CLAUSES = 25


def parse_filter(filter_string: str | None, *, quote_clauses: bool = True) -> list[Comparison]:
    """``quote_clauses=False``: experiment searches quote no clause back in the error (MLflow's
    two parsers differ there: ``...filter string: OR`` vs ``...filter string: 'OR'`` for runs)."""
    if filter_string is None or not filter_string.strip():
        return []
    semicolon = find_unquoted(filter_string, ";")
    if semicolon >= 0 and filter_string[semicolon + 1 :].strip():
        raise invalid(
            f"Search filter contained multiple expression {filter_string!r}. Provide AND-ed expression list."
        )
    cursor = Cursor(filter_string)
    clauses: list[Comparison] = []
    cursor.skip_ws()
    try:
        while True:
            clauses.append(_parse_clause(cursor))
            if len(clauses) > MAX_FILTER_CLAUSES:
                raise invalid(
                    f"Search filter has more than {MAX_FILTER_CLAUSES} clauses; split the search or"
                    " narrow it with fewer AND-ed conditions."
                )
            cursor.skip_ws()
            if cursor.at_end():
                return clauses
            separator_start = cursor.pos
            if cursor.read_word().upper() != "AND" or not cursor.skip_ws() or cursor.at_end():
                cursor.pos = separator_start
                raise _InvalidClause(_token_at(cursor, separator_start))
    except _InvalidClause as bad:
        snippet = f"'{bad.snippet}'" if quote_clauses else bad.snippet
        raise invalid(f"Invalid clause(s) in filter string: {snippet}") from None


def _parse_clause(cursor: Cursor) -> Comparison:
    start = cursor.pos
    try:
        identifier = cursor.read_identifier()
        cursor.skip_ws()
        op = cursor.read_operator()
        value = None
        if op not in ("IS NULL", "IS NOT NULL"):
            cursor.skip_ws()
            value = cursor.read_value()
    except SyntaxFailure:
        raise _InvalidClause(_clause_text(cursor, start)) from None
    return Comparison(identifier, op, value, cursor.text[start : cursor.pos])


class _InvalidClause(Exception):
    def __init__(self, snippet: str) -> None:
        super().__init__(snippet)
        self.snippet = snippet


def _clause_text(cursor: Cursor, start: int) -> str:
    """What to quote back for an unparseable clause: a parenthesised group whole, otherwise the
    text up to the next top-level AND."""
    if cursor.text.startswith("(", start):
        return cursor.balanced_group(start)
    rest = cursor.text[start:]
    quote = ""
    for i, c in enumerate(rest):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c in " \t\n\r" and _AND_SEPARATOR.match(rest, i):
            return rest[:i].strip()
    return rest.strip()


def _token_at(cursor: Cursor, start: int) -> str:
    """The single token where AND was expected (``OR``, ``(...)``, a stray word or symbol)."""
    if cursor.text.startswith("(", start):
        return cursor.balanced_group(start)
    end = start
    while end < len(cursor.text) and cursor.text[end] not in " \t\n\r":
        end += 1
    return cursor.text[start:end]


def parse_order_by(clause: str) -> OrderItem:
    """``identifier [ASC|DESC]`` (any case; ASC by default)."""
    cursor = Cursor(clause)
    cursor.skip_ws()
    try:
        identifier = cursor.read_identifier()
    except SyntaxFailure:
        raise _unparseable_order_by(clause) from None
    had_ws = cursor.skip_ws()
    if cursor.at_end():
        return OrderItem(identifier, True)
    if not had_ws:
        raise _unparseable_order_by(clause)
    direction_start = cursor.pos
    while not cursor.at_end() and cursor.peek() not in " \t\n\r":
        cursor.pos += 1
    direction = clause[direction_start : cursor.pos]
    cursor.skip_ws()
    if not cursor.at_end():
        raise _unparseable_order_by(clause)
    if direction.lower() not in ("asc", "desc"):
        raise invalid(f"Invalid ordering key in order_by clause '{clause}'.")
    return OrderItem(identifier, direction.lower() == "asc")


def _unparseable_order_by(clause: str) -> Exception:
    return invalid(f"Invalid order_by clause '{clause}'. Could not be parsed.")
