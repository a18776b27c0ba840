"""Repeated fields that the HTTP request sent as an empty JSON list.

A proto cannot tell an absent repeated field from an empty one, but MLflow answers them
differently (``logged-models/search`` without ``experiment_ids`` is a 400, with ``[]`` an empty
page; ``runs/outputs`` with ``"models": []`` is accepted). The gateway names the repeated fields
that were present but empty in the ``x-runstash-present-empty`` call metadata (comma-separated
JSON field names); the in-process gateway passes a context with the same pairs.
"""

from __future__ import annotations

from typing import Any

PRESENT_EMPTY_KEY = "x-runstash-present-empty"


def present_empty_fields(context: Any) -> frozenset[str]:
    """The field names ``context``'s call metadata lists (none for a context without metadata)."""
    read = getattr(context, "invocation_metadata", None)
    if read is None:
        return frozenset()
    names: set[str] = set()
    for key, value in read() or ():
        if key == PRESENT_EMPTY_KEY:
            text = value.decode() if isinstance(value, bytes) else str(value)
            names.update(name.strip() for name in text.split(",") if name.strip())
    return frozenset(names)
