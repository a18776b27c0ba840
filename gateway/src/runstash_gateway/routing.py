"""google.api.http path templates compiled into a matcher.

Literal paths (almost every MLflow route) are one dict lookup; templated paths (``{model_id}``,
``{path=**}``) are tried in order of specificity. A path that matches some route but not with this
method is a 405 (with the allowed methods), a path that matches nothing is a 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)(?:=([^}]*))?\}")


class TemplateError(ValueError):
    """A path template this gateway cannot compile."""


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    template: str
    literal: bool
    pattern: re.Pattern[str] | None
    variables: tuple[str, ...]
    # Sort key: more literal characters first, so `/x/{id}/tags` beats `/x/{id=**}`.
    specificity: tuple[int, int]


def _segment_pattern(spec: str) -> str:
    parts = []
    for segment in spec.split("/"):
        if segment == "**":
            parts.append(".+")
        elif segment == "*":
            parts.append("[^/]+")
        elif "*" in segment or "{" in segment:
            raise TemplateError(f"unsupported variable pattern {spec!r}")
        else:
            parts.append(re.escape(segment))
    return "/".join(parts)


def compile_template(template: str) -> CompiledTemplate:
    if not template.startswith("/"):
        raise TemplateError(f"path template must start with '/': {template!r}")
    if ":" in template.rsplit("/", 1)[-1] and "}" not in template.rsplit("/", 1)[-1]:
        raise TemplateError(f"custom verbs are not supported: {template!r}")
    if "{" not in template:
        return CompiledTemplate(template, True, None, (), (len(template), 0))
    regex: list[str] = []
    variables: list[str] = []
    position = 0
    literal_chars = 0
    greedy = 0
    for match in _VARIABLE.finditer(template):
        literal = template[position : match.start()]
        if "{" in literal or "}" in literal:
            raise TemplateError(f"malformed path template {template!r}")
        regex.append(re.escape(literal))
        literal_chars += len(literal)
        name, spec = match.group(1), match.group(2) or "*"
        greedy += spec.count("**")
        regex.append(f"(?P<v{len(variables)}>{_segment_pattern(spec)})")
        variables.append(name)
        position = match.end()
    tail = template[position:]
    if "{" in tail or "}" in tail:
        raise TemplateError(f"malformed path template {template!r}")
    regex.append(re.escape(tail))
    literal_chars += len(tail)
    return CompiledTemplate(
        template,
        False,
        re.compile("".join(regex) + r"\Z"),
        tuple(variables),
        (literal_chars, -greedy),
    )


@dataclass(slots=True)
class Match(Generic[T]):
    target: T
    params: dict[str, str]


@dataclass(slots=True)
class MethodNotAllowed:
    allowed: tuple[str, ...]


@dataclass(slots=True)
class _TemplateEntry(Generic[T]):
    compiled: CompiledTemplate
    by_method: dict[str, T] = field(default_factory=dict)


class Router(Generic[T]):
    """Maps (HTTP method, path) to a target; build with :meth:`add`, then :meth:`match`."""

    def __init__(self) -> None:
        self._literal: dict[str, dict[str, T]] = {}
        self._templates: dict[str, _TemplateEntry[T]] = {}
        self._ordered: list[_TemplateEntry[T]] = []

    def add(self, method: str, template: str, target: T) -> None:
        compiled = compile_template(template)
        method = method.upper()
        if compiled.literal:
            by_method = self._literal.setdefault(template, {})
        else:
            entry = self._templates.get(template)
            if entry is None:
                entry = self._templates[template] = _TemplateEntry(compiled)
                self._ordered.append(entry)
                self._ordered.sort(key=lambda e: e.compiled.specificity, reverse=True)
            by_method = entry.by_method
        if method in by_method:
            raise TemplateError(f"duplicate route {method} {template}")
        by_method[method] = target

    def routes(self) -> Iterable[tuple[str, str, T]]:
        for path, by_method in self._literal.items():
            for method, target in by_method.items():
                yield method, path, target
        for entry in self._ordered:
            for method, target in entry.by_method.items():
                yield method, entry.compiled.template, target

    def match(self, method: str, path: str) -> Match[T] | MethodNotAllowed | None:
        allowed: set[str] = set()
        by_method = self._literal.get(path)
        if by_method is not None:
            target = by_method.get(method)
            if target is not None:
                return Match(target, {})
            allowed.update(by_method)
        for entry in self._ordered:
            pattern = entry.compiled.pattern
            assert pattern is not None
            found = pattern.match(path)
            if found is None:
                continue
            target = entry.by_method.get(method)
            if target is not None:
                names = entry.compiled.variables
                return Match(target, {names[i]: value for i, value in enumerate(found.groups())})
            allowed.update(entry.by_method)
        if allowed:
            return MethodNotAllowed(tuple(sorted(allowed)))
        return None
