"""Artifact service settings, read from the environment the way `mlflow server` reads them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from runstash_artifacts.storage.base import DEFAULT_CHUNK_SIZE

UI_UPLOAD_LIMIT = 10 * 1024 * 1024


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class ArtifactSettings:
    # Advertise the client-driven multipart protocol (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD) and
    # presigned downloads (..._DOWNLOAD); only true in server-info when the storage can presign.
    multipart_upload_enabled: bool = False
    multipart_download_enabled: bool = False
    presigned_download_ttl_seconds: int = 300
    download_chunk_size: int = DEFAULT_CHUNK_SIZE
    ui_upload_limit: int = UI_UPLOAD_LIMIT
    # Roots besides the destination (local folders or s3://bucket/prefix) whose run roots the
    # service may open: the server's own --default-artifact-root. Env: RUNSTASH_TRUSTED_ROOTS
    # (separated by os.pathsep).
    trusted_roots: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> ArtifactSettings:
        return cls(
            multipart_upload_enabled=_flag("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"),
            multipart_download_enabled=_flag("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"),
            presigned_download_ttl_seconds=int(
                os.environ.get("MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS", "300")
            ),
            trusted_roots=tuple(
                p for p in os.environ.get("RUNSTASH_TRUSTED_ROOTS", "").split(os.pathsep) if p
            ),
        )
