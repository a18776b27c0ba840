"""A cursor over a filter string with one reader per token kind of the shared grammar.

Both parsers (the shared one and the stricter logged-model one) are small recursive-descent loops
over this cursor; readers raise :class:`SyntaxFailure` and the caller turns it into the message its
endpoint uses.
"""

from __future__ import annotations

import re

from runstash_metadata.search.ast import (
    BareValue,
    Identifier,
    ListValue,
    NumberValue,
    StringValue,
    Value,
)

_BARE = re.compile(r"[A-Za-z0-9_.]*")
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_SYMBOL_OP = re.compile(r"[=!<>]+")
_WS = " \t\n\r"
SYMBOL_OPS = ("=", "!=", "<", "<=", ">", ">=")


class SyntaxFailure(Exception):
    """The text at ``position`` does not fit the grammar."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


class Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def fail(self) -> SyntaxFailure:
        return SyntaxFailure(self.pos)

    def skip_ws(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1
        return self.pos > start

    def read_word(self) -> str:
        """Letters only (keywords: AND, LIKE, IN, NOT, IS, NULL, ASC, DESC); '' if none."""
        m = _WORD.match(self.text, self.pos)
        if m is None:
            return ""
        end = m.end()
        # A keyword is a whole word: `ANDx` or `IN2` are not keywords.
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "_."):
            return ""
        self.pos = end
        return m.group(0)

    def read_quoted(self, quotes: str, doubled_quote_continues: bool = False) -> tuple[str, str]:
        """A quoted run with no escape processing: returns (content, quote char).

        With ``doubled_quote_continues`` (string literals), ``''`` inside does not end the string
        but stays in it verbatim: ``'O''Brien'`` is ``O''Brien``, as the real server reads it."""
        quote = self.peek()
        if not quote or quote not in quotes:
            raise self.fail()
        end = self.text.find(quote, self.pos + 1)
        while doubled_quote_continues and end >= 0 and self.text.startswith(quote, end + 1):
            end = self.text.find(quote, end + 2)
        if end < 0:
            raise self.fail()
        content = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return content, quote

    def read_bare(self) -> str:
        m = _BARE.match(self.text, self.pos)
        assert m is not None  # the pattern matches the empty string
        self.pos = m.end()
        return m.group(0)

    def read_identifier(self) -> Identifier:
        """``[entity "."] key``: the entity is everything before the first dot; either part may
        be wrapped in backticks or double quotes, which are stripped."""
        start = self.pos
        if self.peek() in ("`", '"'):
            word, _ = self.read_quoted('`"')
            if self.peek() == "." and self.pos + 1 < len(self.text):
                self.pos += 1
                return Identifier(word, self._read_key(), entity_quoted=True)
            return Identifier(None, word)
        run = self.read_bare()
        if not run:
            raise SyntaxFailure(start)
        if run.endswith(".") and self.peek() in ("`", '"'):
            entity = run[:-1]
            if not entity or "." in entity:
                raise SyntaxFailure(start)
            key, _ = self.read_quoted('`"')
            return Identifier(entity, key)
        if "." in run:
            entity, key = run.split(".", 1)
            if not entity or not key:
                raise SyntaxFailure(start)
            return Identifier(entity, key)
        return Identifier(None, run)

    def _read_key(self) -> str:
        if self.peek() in ("`", '"'):
            key, _ = self.read_quoted('`"')
            return key
        key = self.read_bare()
        if not key:
            raise self.fail()
        return key

    def read_operator(self) -> str:
        """A comparator, upper-cased, with multi-word ones joined by one space."""
        start = self.pos
        m = _SYMBOL_OP.match(self.text, self.pos)
        if m is not None:
            # Any run of comparison symbols is a comparator here (`>>`, `<>`, `=<`): like MLflow,
            # the entity's rules reject unknown ones with "Invalid comparator '>>' not one of …".
            self.pos = m.end()
            return m.group(0)
        word = self.read_word().upper()
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT":
            if self.skip_ws() and self.read_word().upper() == "IN":
                return "NOT IN"
        elif word == "IS" and self.skip_ws():
            nxt = self.read_word().upper()
            if nxt == "NULL":
                return "IS NULL"
            if nxt == "NOT" and self.skip_ws() and self.read_word().upper() == "NULL":
                return "IS NOT NULL"
        raise SyntaxFailure(start)

    def read_value(self) -> Value:
        """A string, a number, a parenthesised list, or (for the rules to reject) a bare word."""
        start = self.pos
        c = self.peek()
        if c in ("'", '"'):
            content, quote = self.read_quoted(c, doubled_quote_continues=True)
            return StringValue(content, quote, self.text[start : self.pos])
        if c == "`":
            self.read_quoted(c)
            return BareValue(self.text[start : self.pos])
        if c == "(":
            return self.read_list()
        m = _NUMBER.match(self.text, self.pos)
        if m is not None:
            end = m.end()
            if end >= len(self.text) or not (self.text[end].isalnum() or self.text[end] in "_."):
                self.pos = end
                return NumberValue(m.group(0))
        run = self.read_bare()
        if not run:
            raise SyntaxFailure(start)
        return BareValue(run)

    def read_list(self) -> ListValue:
        start = self.pos
        if self.peek() != "(":
            raise self.fail()
        self.pos += 1
        items: list[StringValue | NumberValue] = []
        self.skip_ws()
        if self.peek() == ")":
            self.pos += 1
            return ListValue((), self.text[start : self.pos])
        while True:
            self.skip_ws()
            item = self.read_value()
            if not isinstance(item, StringValue | NumberValue):
                raise SyntaxFailure(start)
            items.append(item)
            self.skip_ws()
            c = self.peek()
            self.pos += 1
            if c == ")":
                return ListValue(tuple(items), self.text[start : self.pos])
            if c != ",":
                raise SyntaxFailure(start)

    def balanced_group(self, start: int) -> str:
        """The parenthesised text starting at ``start`` (to the end if unbalanced)."""
        depth = 0
        quote = ""
        for i in range(start, len(self.text)):
            c = self.text[i]
            if quote:
                if c == quote:
                    quote = ""
            elif c in "'\"`":
                quote = c
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return self.text[start : i + 1]
        return self.text[start:]


def find_unquoted(text: str, char: str) -> int:
    """Index of the first ``char`` outside quotes, or -1."""
    quote = ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c == char:
            return i
    return -1
