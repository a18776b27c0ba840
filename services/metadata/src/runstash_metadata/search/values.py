"""Value checks and message fragments the per-entity rules share (MLflow's wording)."""

from __future__ import annotations

from collections.abc import Iterable

from runstash_protos.errors import RunstashError, invalid_parameter

from runstash_metadata.search.ast import BareValue, ListValue, NumberValue, StringValue, Value

# +-inf are stored clamped to the largest double (MySQL has no infinity); literals follow suit.
MAX_DOUBLE = 1.7976931348623157e308


def set_repr(items: Iterable[str]) -> str:
    """A Python-set-looking listing in a fixed order (MLflow prints a set, in hash order)."""
    return "{" + ", ".join(repr(item) for item in items) + "}"


def value_text(value: Value | None) -> str:
    if value is None:
        return "None"
    return value.text


def bounded_float(number: NumberValue) -> float:
    result = number.as_float()
    return max(-MAX_DOUBLE, min(MAX_DOUBLE, result))


def integer_or_float(number: NumberValue) -> int | float:
    return int(number.text) if number.is_integer else bounded_float(number)


def unquoted_error(value: BareValue) -> RunstashError:
    return invalid_parameter(
        "Parameter value is either not quoted or unidentified quote types used for string value "
        f"{value.text}. Use either single or double quotes."
    )


def list_strings(value: ListValue) -> tuple[str, ...]:
    """A non-empty list of quoted strings, else MLflow's list errors."""
    if not value.items:
        raise invalid_parameter(
            "While parsing a list in the query, expected a non-empty list of string values, "
            "but got empty list"
        )
    if not value.all_strings:
        shown = tuple(
            item.value if isinstance(item, StringValue) else integer_or_float(item) for item in value.items
        )
        raise invalid_parameter(
            "While parsing a list in the query, expected string value, punctuation, or whitespace, "
            f"but got different type in list: {shown}"
        )
    return value.strings()


def check_list_op(op: str, value: Value | None, clause_text: str) -> None:
    """Lists go with IN / NOT IN and nothing else."""
    is_list = isinstance(value, ListValue)
    if is_list != (op in ("IN", "NOT IN")):
        raise invalid_parameter(f"Invalid clause(s) in filter string: '{clause_text}'")


def check_comparator(op: str, allowed: tuple[str, ...]) -> None:
    if op in allowed:
        return
    # MLflow refuses a symbol that is no comparator at all (`>>`) on numeric keys only when it
    # builds the SQL, with a message that lacks the closing quote; clients may match on it.
    closing = "" if allowed == NUMERIC_OPS and op not in _KNOWN_OPS else "'"
    raise invalid_parameter(f"Invalid comparator '{op}' not one of '{set_repr(allowed)}{closing}")


NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
STRING_OR_LIST_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
PRESENCE_OPS = ("IS NULL", "IS NOT NULL")
_KNOWN_OPS = frozenset((*STRING_OR_LIST_OPS, *NUMERIC_OPS, *PRESENCE_OPS))
