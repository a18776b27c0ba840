"""The artifact service's settings: one frozen object, parsed once at start-up and passed in.

The environment is read the way ``mlflow server`` reads it (``MLFLOW_*``, the ``AWS_*`` names
boto3 knows), plus ``RUNSTASH_*`` names for what MLflow has no setting for. Nothing else in the
service reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from runstash_protos.flags import parse_bool

from runstash_artifacts.storage.base import DEFAULT_CHUNK_SIZE

UI_UPLOAD_LIMIT = 10 * 1024 * 1024
MIB = 1024 * 1024


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    try:
        return parse_bool(env.get(name), default)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ValueError(f"{name}={value} is below its minimum of {minimum}")
    return value


@dataclass(frozen=True, slots=True)
class S3Settings:
    """How to reach S3: endpoint (``MLFLOW_S3_ENDPOINT_URL``, else ``AWS_ENDPOINT_URL``, else AWS),
    region (``AWS_DEFAULT_REGION`` / ``AWS_REGION``), TLS checks (``MLFLOW_S3_IGNORE_TLS``).
    Credentials stay with boto3's own chain."""

    endpoint_url: str | None = None
    region: str = "us-east-1"
    verify_tls: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Settings:
        env = os.environ if env is None else env
        return cls(
            endpoint_url=env.get("MLFLOW_S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
            verify_tls=not _flag(env, "MLFLOW_S3_IGNORE_TLS"),
        )


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """Parallelism and buffer bounds of S3 transfers (memory per transfer is about
    ``(parts_in_flight + 1) * part_size`` up, ``(ranges_ahead + 1) * range_size`` down)."""

    # One streamed upload: parts of part_size, up to parts_in_flight of them on the wire. Many
    # small parts beat fewer large ones at the same memory (W5 on SeaweedFS, same run: 10 x 5 MiB
    # at 99% of boto3's own upload_file, 5 x 8 MiB at 84%); 5 MiB is S3's smallest part.
    part_size: int = 5 * MIB
    parts_in_flight: int = 10
    # One download: ranged GETs of range_size, up to ranges_ahead fetched ahead of the reader
    # (measured in the same run: 4 x 4 MiB ahead beat 10 x 2 MiB).
    range_size: int = 4 * MIB
    ranges_ahead: int = 4
    # Threads shared by every transfer of the service (the backpressure when all are busy).
    threads: int = 32

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TransferSettings:
        base = cls()
        return cls(
            part_size=_int(env, "RUNSTASH_S3_PART_MIB", base.part_size // MIB, minimum=5) * MIB,
            parts_in_flight=_int(env, "RUNSTASH_S3_PARTS_IN_FLIGHT", base.parts_in_flight),
            range_size=_int(env, "RUNSTASH_S3_RANGE_MIB", base.range_size // MIB) * MIB,
            ranges_ahead=_int(env, "RUNSTASH_S3_RANGES_AHEAD", base.ranges_ahead, minimum=0),
            threads=_int(env, "RUNSTASH_S3_TRANSFER_THREADS", base.threads),
        )


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
    # service may open: the server's own --default-artifact-root. Env: RUNSTASH_TRUSTED_ROOTS,
    # comma-separated (os.pathsep would be ':', which cuts s3:// URIs in two).
    trusted_roots: tuple[str, ...] = ()
    s3: S3Settings = field(default_factory=S3Settings)
    transfers: TransferSettings = field(default_factory=TransferSettings)
    # Upload temporaries untouched this long are debris of a killed process: removed at start-up.
    # Env: RUNSTASH_STALE_UPLOAD_SECONDS.
    stale_upload_seconds: int = 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ArtifactSettings:
        env = os.environ if env is None else env
        return cls(
            multipart_upload_enabled=_flag(env, "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"),
            multipart_download_enabled=_flag(env, "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"),
            presigned_download_ttl_seconds=_int(env, "MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS", 300),
            trusted_roots=tuple(
                p.strip() for p in env.get("RUNSTASH_TRUSTED_ROOTS", "").split(",") if p.strip()
            ),
            s3=S3Settings.from_env(env),
            transfers=TransferSettings.from_env(env),
            stale_upload_seconds=_int(env, "RUNSTASH_STALE_UPLOAD_SECONDS", 3600, minimum=0),
        )
