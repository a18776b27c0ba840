"""The metadata service's settings: parsed once at start-up, then passed in (never read on a hot path)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetadataSettings:
    """``backend_store_uri``: the tracking database; ``default_artifact_root``: where experiments
    created without an artifact location keep their artifacts (``<root>/<experiment id>``)."""

    backend_store_uri: str
    default_artifact_root: str
