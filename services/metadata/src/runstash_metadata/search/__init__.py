"""Search: the filter/order_by grammar, per-entity rules, page tokens and their SQL translation.

The store uses one module per searched entity (``runs``, ``experiments``, ``logged_models``), each
with a ``plan(...)`` returning a :class:`SearchPlan`.
"""

from runstash_metadata.search.plan import SearchPlan

__all__ = ["SearchPlan"]
