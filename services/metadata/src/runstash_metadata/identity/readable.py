"""The typed "readable experiments" predicate a search applies inside its SQL query.

The guard puts the caller's :class:`ReadableExperiments` in ``runstash_protos.authz.current_scope``
for search RPCs; the query builders add :func:`readable` of their experiment-id column to their
WHERE clause, so unreadable rows never leave the database (no per-row checks, no refill loops).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runstash_protos.authz import current_scope
from sqlalchemy import ColumnElement, false, true

from runstash_metadata.identity.levels import RANK, READ_RANK


@dataclass(frozen=True, slots=True)
class ReadableExperiments:
    """Either every experiment but ``excluded`` (default permission allows reading), or only
    ``included`` (it does not)."""

    by_default: bool
    included: frozenset[int]
    excluded: frozenset[int]

    @classmethod
    def of(cls, grants: Mapping[tuple[str, str], str], default_rank: int) -> ReadableExperiments:
        everything = grants.get(("experiment", "*"))
        if everything is not None:
            default_rank = RANK[everything]  # a grant on every experiment overrides the default
        readable: set[int] = set()
        unreadable: set[int] = set()
        for (kind, resource_id), permission in grants.items():
            if kind == "experiment" and resource_id.isdigit():
                (readable if RANK[permission] >= READ_RANK else unreadable).add(int(resource_id))
        return cls(default_rank >= READ_RANK, frozenset(readable), frozenset(unreadable))

    def condition(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        if self.by_default:
            return column.notin_(sorted(self.excluded)) if self.excluded else true()
        if not self.included:
            return false()
        return column.in_(sorted(self.included))


def readable(column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """The WHERE conditions limiting ``column`` (an experiment id) to what the caller may read."""
    scope = current_scope.get()
    return [scope.condition(column)] if isinstance(scope, ReadableExperiments) else []
