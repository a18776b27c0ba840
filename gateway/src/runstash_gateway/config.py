"""Gateway settings: one frozen object, parsed once at start-up (by the CLI) and passed in.

It mirrors the `mlflow server` flags the gateway is responsible for; nothing in the gateway reads
the environment while serving.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

# gateway/src/runstash_gateway/config.py -> gateway/ui/dist
DEFAULT_UI_DIST = Path(__file__).resolve().parents[2] / "ui" / "dist"


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runstash-gateway")
    except PackageNotFoundError:  # a source tree without an install
        return "0+unknown"


DEFAULT_CORS_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 5000
    # >1 runs uvicorn worker processes; each builds its own backends (see server.run).
    workers: int = 1
    log_level: str = "info"
    # One "METHOD path status duration" line per request on the runstash.access logger.
    access_log: bool = False

    # What /api/3.0/mlflow/server-info advertises, and the mode switches of `mlflow server`.
    serve_artifacts: bool = True
    artifacts_only: bool = False
    multipart_uploads_enabled: bool = False
    multipart_downloads_enabled: bool = False
    artifacts_presigned_only: bool = False
    store_type: str | None = "SqlStore"
    # What GET /version answers: the MLflow server release whose REST surface this one serves.
    server_version: str = "3.18.0"
    # runstash's own release: the X-Runstash-Version header of /version and /api/runstash/version.
    runstash_version: str = field(default_factory=_installed_version)
    static_prefix: str = ""

    # Limits. JSON bodies are read whole (bounded); byte-stream uploads are streamed in chunks.
    max_json_body_bytes: int = 32 * 1024 * 1024
    stream_chunk_bytes: int = 1024 * 1024
    # The longest wait for the next piece of a request body (idle uploads get 408, then go).
    body_timeout_s: float = 60.0
    # Responses with a repeated field longer than this are rendered and sent in batches of it.
    stream_json_items: int = 10_000
    # How long start-up waits for remote services to answer reflection.
    startup_timeout_s: float = 60.0

    # Web UI: index.html at `/`, built assets under their own paths.
    ui_dist: str = str(DEFAULT_UI_DIST)

    # Security middleware (as `mlflow server` with uvicorn).
    disable_security_middleware: bool = False
    allowed_hosts: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    x_frame_options: str = "SAMEORIGIN"

    # For workers > 1 each worker process builds its own backends from one of these:
    # an import string "package.module:callable" returning GatewayBackends, or remote targets
    # (one tuple of host:port replicas per service group).
    backends_factory: str | None = None
    remote_targets: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    def to_json(self) -> bytes:
        return orjson.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> GatewayConfig:
        data: dict[str, Any] = orjson.loads(raw)
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("allowed_hosts", "cors_allowed_origins"):
            if name in values:
                values[name] = tuple(values[name])
        if "remote_targets" in values:
            values["remote_targets"] = tuple(tuple(group) for group in values["remote_targets"])
        return cls(**values)
