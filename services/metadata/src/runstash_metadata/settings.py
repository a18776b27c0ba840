"""The metadata service's settings: parsed once at start-up, then passed in (never read on a hot path).

``MetadataSettings.from_env(uri, root)`` reads MLflow's server variables once; a malformed value
stops the start-up with a message naming it instead of surfacing on some later request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

TRUNCATE_ENV_VAR = "MLFLOW_TRUNCATE_LONG_VALUES"
ARTIFACT_LOCATION_MAX_LENGTH_ENV_VAR = "MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH"
DEFAULT_ARTIFACT_LOCATION_MAX_LENGTH = 2048
ALLOWED_HOST_SCHEMES_ENV_VAR = "MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES"


def parse_bool(value: str | None, default: bool) -> bool:
    """The contract of ``runstash_protos.flags.parse_bool`` (1/true/yes/on, 0/false/no/off, any
    case; None or empty -> ``default``; anything else raises ValueError naming the value)."""
    word = (value or "").strip().lower()
    if not word:
        return default
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean; use one of 1, true, yes, on, 0, false, no, off")


@dataclass(frozen=True, slots=True)
class ValidationSettings:
    """What request validation takes from the server's configuration (MLflow's variables)."""

    truncate_long_values: bool = True
    artifact_location_max_length: int = DEFAULT_ARTIFACT_LOCATION_MAX_LENGTH
    allowed_host_schemes: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ValidationSettings:
        env = os.environ if environ is None else environ
        raw_length = env.get(ARTIFACT_LOCATION_MAX_LENGTH_ENV_VAR)
        try:
            length = int(raw_length) if raw_length else DEFAULT_ARTIFACT_LOCATION_MAX_LENGTH
        except ValueError:
            raise ValueError(
                f"{ARTIFACT_LOCATION_MAX_LENGTH_ENV_VAR}={raw_length!r} is not an integer"
            ) from None
        try:
            truncate = parse_bool(env.get(TRUNCATE_ENV_VAR), True)
        except ValueError as exc:
            raise ValueError(f"{TRUNCATE_ENV_VAR}: {exc}") from None
        schemes = env.get(ALLOWED_HOST_SCHEMES_ENV_VAR, "")
        return cls(
            truncate_long_values=truncate,
            artifact_location_max_length=length,
            allowed_host_schemes=frozenset(p.strip().lower() for p in schemes.split(",") if p.strip()),
        )


@dataclass(frozen=True, slots=True)
class MetadataSettings:
    """``backend_store_uri``: the tracking database; ``default_artifact_root``: where experiments
    created without an artifact location keep their artifacts (``<root>/<experiment id>``)."""

    backend_store_uri: str
    default_artifact_root: str
    validation: ValidationSettings = field(default_factory=ValidationSettings)

    @classmethod
    def from_env(
        cls, backend_store_uri: str, default_artifact_root: str, environ: Mapping[str, str] | None = None
    ) -> MetadataSettings:
        return cls(backend_store_uri, default_artifact_root, ValidationSettings.from_env(environ))
