"""MLflow's trace filter grammar (AND-joined ``<entity>.<key> <op> <value>`` clauses) parsed into
:class:`Clause` objects; what each entity allows is checked in :mod:`.search`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from runstash_protos.errors import invalid_parameter

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<bt>`[^`]*`)
    | (?P<sq>'(?:[^']|'')*')
    | (?P<dq>"(?:[^"]|"")*")
    | (?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,)
    | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"LIKE", "ILIKE", "RLIKE", "IN", "NOT", "IS"}
ENTITIES = {
    "attribute": "attribute", "attributes": "attribute", "trace": "attribute",
    "tag": "tag", "tags": "tag",
    "metadata": "metadata", "request_metadata": "metadata",
    "span": "span",
    "feedback": "feedback", "expectation": "expectation",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Clause:
    entity: str  # attribute | tag | metadata | span | feedback | expectation
    key: str
    op: str
    value: str | float | tuple[str, ...] | None
    text: str


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise invalid_parameter(f"Invalid filter string: {text!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _unquote(kind: str, raw: str) -> str:
    if kind == "bt":
        return raw[1:-1]
    quote = raw[0]
    return raw[1:-1].replace(quote * 2, quote)


def parse(filter_string: str | None) -> list[Clause]:
    if not filter_string or not filter_string.strip():
        return []
    tokens = _tokens(filter_string)
    clauses: list[Clause] = []
    start = 0
    for i, (kind, raw) in enumerate([*tokens, ("word", "AND")]):
        if kind == "word" and raw.upper() == "AND":
            if i == start:
                raise invalid_parameter(f"Invalid filter string: {filter_string!r}")
            clauses.append(_clause(tokens[start:i], filter_string))
            start = i + 1
    return clauses


def _clause(tokens: list[tuple[str, str]], source: str) -> Clause:
    text = " ".join(raw for _, raw in tokens)
    parts: list[str] = []
    i = 0
    while i < len(tokens) and (
        tokens[i][0] in ("bt", "dq") or (tokens[i][0] == "word" and tokens[i][1].upper() not in _WORD_OPS)
    ):
        kind, raw = tokens[i]
        parts.extend(p for p in raw.split(".") if p) if kind == "word" else parts.append(_unquote(kind, raw))
        i += 1
    if not parts or i >= len(tokens):
        raise invalid_parameter(f"Invalid clause(s) in filter string: '{text}'")
    entity = ENTITIES.get(parts[0].lower()) if len(parts) > 1 else None
    key = ".".join(parts[1:]) if entity else ".".join(parts)
    op, i = _operator(tokens, i, text)
    if op in ("IS NULL", "IS NOT NULL"):
        value: str | float | tuple[str, ...] | None = None
    elif op in ("IN", "NOT IN"):
        value, i = _list(tokens, i, text)
    else:
        if i >= len(tokens):
            raise invalid_parameter(f"Invalid clause(s) in filter string: '{text}'")
        kind, raw = tokens[i]
        i += 1
        if kind in ("sq", "dq"):
            value = _unquote(kind, raw)
        elif kind == "num":
            value = float(raw)
        else:
            raise invalid_parameter(f"Invalid value in filter string: '{text}'")
    if i != len(tokens):
        raise invalid_parameter(f"Invalid clause(s) in filter string: '{text}'")
    return Clause(entity or "attribute", key, op, value, text)


def _operator(tokens: list[tuple[str, str]], i: int, text: str) -> tuple[str, int]:
    kind, raw = tokens[i]
    upper = raw.upper()
    if kind == "op" and raw in ("=", "!=", "<>", "<", "<=", ">", ">="):
        return ("!=" if raw == "<>" else raw), i + 1
    words = [t[1].upper() for t in tokens[i : i + 3] if t[0] == "word"]
    if upper in ("LIKE", "ILIKE", "RLIKE", "IN"):
        return upper, i + 1
    if words[:2] == ["NOT", "IN"]:
        return "NOT IN", i + 2
    if words[:2] == ["IS", "NULL"]:
        return "IS NULL", i + 2
    if words[:3] == ["IS", "NOT", "NULL"]:
        return "IS NOT NULL", i + 3
    raise invalid_parameter(f"Invalid comparator in filter string: '{text}'")


def _list(tokens: list[tuple[str, str]], i: int, text: str) -> tuple[tuple[str, ...], int]:
    if i >= len(tokens) or tokens[i][1] != "(":
        raise invalid_parameter(f"Expected a list of values in filter string: '{text}'")
    items: list[str] = []
    i += 1
    while i < len(tokens) and tokens[i][1] != ")":
        kind, raw = tokens[i]
        if kind in ("sq", "dq"):
            items.append(_unquote(kind, raw))
        elif kind == "num":
            items.append(raw)
        elif raw != ",":
            raise invalid_parameter(f"Invalid list in filter string: '{text}'")
        i += 1
    if i >= len(tokens):
        raise invalid_parameter(f"Unclosed list in filter string: '{text}'")
    return tuple(items), i + 1
