"""One reading of boolean environment flags for every runstash process.

MLflow's own variables are read by several services; if each had its own idea of ``on`` the same
environment would configure them differently. A value outside the known words is a mistake worth
stopping for, not a silent ``False``.
"""

from __future__ import annotations

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_bool(value: str | None, default: bool) -> bool:
    """``1/true/yes/on`` -> True, ``0/false/no/off`` -> False (any case, surrounding spaces
    ignored); ``None`` or an empty string -> ``default``; anything else raises ValueError."""
    if value is None:
        return default
    word = value.strip().lower()
    if not word:
        return default
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean; use one of 1, true, yes, on, 0, false, no, off")
