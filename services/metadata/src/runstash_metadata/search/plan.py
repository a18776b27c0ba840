"""What a search hands the store: one statement for the page's primary keys, and the paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """``statement`` selects the primary key (run_uuid / experiment_id / model_id) of the page in
    order, with ``LIMIT max_results + 1 OFFSET offset``: one row more than the page tells the store
    whether a next page exists. The store hydrates the page in bulk from the keys.

    ``tiers``, when not empty, replaces ``statement``: the full order split into consecutive
    parts, each a statement without LIMIT/OFFSET whose own ORDER BY an index can serve (a run
    ordered by a metric: real values, then NaN, then missing). The page is read tier by tier
    (:meth:`page_keys`), and a later tier is only queried when the earlier ones run out."""

    statement: Select[Any]
    offset: int
    max_results: int
    encode_token: Callable[[int], str]
    tiers: tuple[Select[Any], ...] = ()

    def page_keys(self, execute: Callable[[Select[Any]], Sequence[Any]]) -> list[Any]:
        """The page's rows (one more than ``max_results`` when a next page exists), running
        statements through ``execute``."""
        if not self.tiers:
            return list(execute(self.statement))
        rows: list[Any] = []
        need, skip = self.max_results + 1, self.offset
        for tier in self.tiers:
            # LIMIT skip + wanted rather than OFFSET: the rows counted tell the next tier how
            # much of the offset is left.
            got = execute(tier.limit(skip + need - len(rows)))
            rows.extend(got[skip:])
            if len(rows) >= need:
                break
            skip = max(0, skip - len(got))
        return rows

    def next_page_token(self, rows_returned: int) -> str | None:
        """The token for the following page, or None when ``rows_returned`` shows this is the last."""
        if rows_returned > self.max_results:
            return self.encode_token(self.offset + self.max_results)
        return None
