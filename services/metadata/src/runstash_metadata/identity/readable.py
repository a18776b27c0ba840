"""The typed "readable resources" predicates a search applies inside its SQL query.

The guard puts the caller's :class:`SearchScope` in ``runstash_protos.authz.current_scope`` for
search RPCs; the query builders add :func:`readable` of their experiment-id column (runs,
experiments, logged models) or :func:`readable_models` of their registered-model name column
(registered models, model versions) to their WHERE clause, so unreadable rows never leave the
database (no per-row checks, no refill loops).

The predicate is the same rule :meth:`LocalAuthority.rank` applies to one resource: the grant on
the resource, else the grant on every resource of its type ("*"), else the default permission.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from runstash_protos.authz import current_scope
from sqlalchemy import ColumnElement, false, true

from runstash_metadata.identity.levels import RANK, READ_RANK, manages_everything

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Readable(Generic[K]):
    """Either every resource but ``excluded`` (the default allows reading), or only ``included``
    (it does not)."""

    by_default: bool
    included: frozenset[K]
    excluded: frozenset[K]

    @classmethod
    def of(
        cls,
        grants: Mapping[tuple[str, str], str],
        kind: str,
        default_rank: int,
        key: Callable[[str], K | None],
    ) -> Readable[K]:
        everything = grants.get((kind, "*"))
        if everything is not None:
            default_rank = RANK[everything]  # a grant on every resource of the kind overrides the default
        readable: set[K] = set()
        unreadable: set[K] = set()
        for (granted_kind, resource_id), permission in grants.items():
            value = key(resource_id) if granted_kind == kind and resource_id != "*" else None
            if value is not None:
                (readable if RANK[permission] >= READ_RANK else unreadable).add(value)
        return cls(default_rank >= READ_RANK, frozenset(readable), frozenset(unreadable))

    def condition(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        if self.by_default:
            return column.notin_(sorted(self.excluded)) if self.excluded else true()
        if not self.included:
            return false()
        return column.in_(sorted(self.included))


def _experiment_id(resource_id: str) -> int | None:
    return int(resource_id) if resource_id.isdigit() else None


def _name(resource_id: str) -> str:
    return resource_id


@dataclass(frozen=True, slots=True)
class SearchScope:
    """What one caller's searches may return."""

    experiments: Readable[int]
    registered_models: Readable[str]

    @classmethod
    def of(cls, grants: Mapping[tuple[str, str], str], default_rank: int) -> SearchScope:
        if manages_everything(grants):
            return cls(Readable(True, frozenset(), frozenset()), Readable(True, frozenset(), frozenset()))
        return cls(
            Readable.of(grants, "experiment", default_rank, _experiment_id),
            Readable.of(grants, "registered_model", default_rank, _name),
        )


def readable(column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """The WHERE conditions limiting ``column`` (an experiment id) to what the caller may read."""
    scope = current_scope.get()
    return [scope.experiments.condition(column)] if isinstance(scope, SearchScope) else []


def readable_models(column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """The WHERE conditions limiting ``column`` (a registered model's name) to what the caller may
    read."""
    scope = current_scope.get()
    return [scope.registered_models.condition(column)] if isinstance(scope, SearchScope) else []
