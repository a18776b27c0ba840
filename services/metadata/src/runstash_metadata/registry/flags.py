"""Environment flags: ``runstash_protos.flags.parse_bool`` once the gateway's module is on main;
the same contract here until then (true: 1,true,yes,on; false: 0,false,no,off)."""

from __future__ import annotations

try:
    from runstash_protos.flags import parse_bool  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - only until runstash_protos.flags is merged

    def parse_bool(value: str | None, default: bool) -> bool:
        if value is None or value.strip() == "":
            return default
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"Not a boolean flag value: {value!r}")


__all__ = ["parse_bool"]
