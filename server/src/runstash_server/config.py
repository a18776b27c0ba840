"""The server's settings, as `mlflow server` names them, in one immutable object.

The CLI fills it from flags and MLFLOW_* environment variables; worker processes receive it back
through one environment variable, so every process of a deployment runs with the same settings.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

CONFIG_ENV = "RUNSTASH_SERVER_CONFIG"
DEFAULT_BACKEND_STORE_URI = "sqlite:///runstash.db"
DEFAULT_ARTIFACTS_DESTINATION = "./mlartifacts"
PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:/"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    backend_store_uri: str = DEFAULT_BACKEND_STORE_URI
    default_artifact_root: str | None = None
    serve_artifacts: bool = True
    artifacts_destination: str = DEFAULT_ARTIFACTS_DESTINATION
    artifacts_only: bool = False
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    static_prefix: str = ""
    allowed_hosts: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()
    disable_security_middleware: bool = False
    x_frame_options: str = "SAMEORIGIN"
    multipart_uploads: bool = False
    multipart_downloads: bool = False
    grpc_port: int | None = None
    # One line per HTTP request (method, path, status, duration).
    access_log: bool = True
    # Split deployment: addresses of remote services instead of in-process servicers.
    metadata_address: str | None = None
    artifacts_addresses: tuple[str, ...] = field(default_factory=tuple)

    @property
    def artifact_root(self) -> str:
        """The artifact_location prefix for new experiments, as `mlflow server` chooses it."""
        if self.default_artifact_root:
            return self.default_artifact_root
        if self.serve_artifacts:
            return PROXIED_ARTIFACT_ROOT
        return os.path.abspath("./mlruns")

    @property
    def serves_tracking(self) -> bool:
        return not self.artifacts_only

    @property
    def serves_artifacts(self) -> bool:
        return self.serve_artifacts or self.artifacts_only

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerConfig:
        raw = (environ if environ is not None else os.environ).get(CONFIG_ENV)
        if raw is None:
            return cls()
        data: dict[str, Any] = json.loads(raw)
        tuple_fields = {f.name for f in fields(cls) if str(f.type).startswith("tuple")}
        values: dict[str, Any] = {k: tuple(v) if k in tuple_fields else v for k, v in data.items()}
        return cls(**values)
