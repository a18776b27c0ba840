"""The syntax tree a filter string parses into, before any per-entity rule is applied.

The parser only knows the shared grammar (search-grammar.md §2); whether ``metrics.acc`` may be
compared with ``LIKE`` or a param with a number is decided later by the per-entity rules, which is
why values keep their source text (MLflow's messages quote it back).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identifier:
    """``[entity "."] key`` with quotes stripped; ``entity`` is None when there was no prefix."""

    entity: str | None
    key: str
    entity_quoted: bool = False


@dataclass(frozen=True, slots=True)
class StringValue:
    value: str
    quote: str  # "'" or '"'
    text: str  # as written, quotes included


@dataclass(frozen=True, slots=True)
class NumberValue:
    text: str

    @property
    def is_integer(self) -> bool:
        return not any(c in self.text for c in ".eE")

    def as_float(self) -> float:
        return float(self.text)


@dataclass(frozen=True, slots=True)
class ListValue:
    """``( 'a', "b" )``; ``items`` holds every element (a string or a number) as parsed."""

    items: tuple[StringValue | NumberValue, ...]
    text: str

    @property
    def all_strings(self) -> bool:
        return all(isinstance(item, StringValue) for item in self.items)

    def strings(self) -> tuple[str, ...]:
        return tuple(item.value for item in self.items if isinstance(item, StringValue))


@dataclass(frozen=True, slots=True)
class BareValue:
    """An unquoted word (or backtick-quoted word) where a value was expected: ``status = RUNNING``."""

    text: str


Value = StringValue | NumberValue | ListValue | BareValue


@dataclass(frozen=True, slots=True)
class Comparison:
    """One clause. ``op`` is upper-case: ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``LIKE``,
    ``ILIKE``, ``IN``, ``NOT IN``, ``IS NULL``, ``IS NOT NULL``; ``value`` is None for the NULL tests."""

    identifier: Identifier
    op: str
    value: Value | None
    text: str  # the clause as written, for error messages


@dataclass(frozen=True, slots=True)
class OrderItem:
    identifier: Identifier
    ascending: bool
