"""What a search hands the store: one statement for the page's primary keys, and the paging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """``statement`` selects the primary key (run_uuid / experiment_id / model_id) of the page in
    order, with ``LIMIT max_results + 1 OFFSET offset``: one row more than the page tells the store
    whether a next page exists. The store hydrates the page in bulk from the keys."""

    statement: Select[Any]
    offset: int
    max_results: int
    encode_token: Callable[[int], str]

    def next_page_token(self, rows_returned: int) -> str | None:
        """The token for the following page, or None when ``rows_returned`` shows this is the last."""
        if rows_returned > self.max_results:
            return self.encode_token(self.offset + self.max_results)
        return None
