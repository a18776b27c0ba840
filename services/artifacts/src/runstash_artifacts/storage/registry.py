"""The one table from an artifact URI's scheme to the storage that serves it.

``s3://bucket/prefix`` is S3; ``file://...`` and plain paths are local disk. Any other scheme is
not served by this service (``None`` from :func:`storage_kind`). The proxy's own forms
(``mlflow-artifacts:/``, ``http(s)://.../mlflow-artifacts/artifacts/``) are not storages but paths
inside the destination; :mod:`runstash_artifacts.roots` maps them.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Literal

from runstash_artifacts.settings import ArtifactSettings
from runstash_artifacts.storage.base import ArtifactStorage
from runstash_artifacts.transfers import TransferPool

StorageKind = Literal["local", "s3"]


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix)."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme.lower() != "s3" or not parsed.netloc:
        raise ValueError(f"not an S3 URI: {uri!r}")
    return parsed.netloc, parsed.path.strip("/")


def local_path(uri: str) -> str | None:
    """The folder of a local URI (``file://`` or a plain path), else None."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme.lower() == "file":
        return urllib.parse.unquote(parsed.path)
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return uri
    return None


def storage_kind(uri: str) -> StorageKind | None:
    """Which storage serves ``uri``, or None if this service cannot open it."""
    if urllib.parse.urlparse(uri).scheme.lower() == "s3":
        return "s3"
    if local_path(uri) is not None:
        return "local"
    return None


def can_open(uri: str) -> bool:
    """Whether the artifact service can open ``uri`` itself (for example a default artifact root
    in ``--no-serve-artifacts`` mode): the CLI asks this instead of matching schemes."""
    return storage_kind(uri) is not None


@dataclass
class StorageContext:
    """What opening a storage may need, shared for the life of the service: the settings, the
    transfer threads and one S3 client (boto3 clients are thread-safe; built on first use, since
    importing boto3 costs ~0.4 s of start-up that local-only servers should not pay)."""

    settings: ArtifactSettings
    transfers: TransferPool
    _s3_client: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, settings: ArtifactSettings) -> StorageContext:
        return cls(settings, TransferPool(settings.transfers.threads))

    def s3_client(self) -> Any:
        with self._lock:
            if self._s3_client is None:
                from runstash_artifacts.storage.s3 import make_s3_client

                self._s3_client = make_s3_client(settings=self.settings.s3)
            return self._s3_client

    def close(self) -> None:
        self.transfers.close()


def open_storage(uri: str, context: StorageContext, *, s3_client: Any | None = None) -> ArtifactStorage:
    """The storage rooted at ``uri`` (``s3_client`` overrides the shared one, e.g. to reuse a
    connection pool). Raises ValueError for a scheme no storage serves."""
    kind = storage_kind(uri)
    if kind == "s3":
        from runstash_artifacts.storage.s3 import S3Storage

        bucket, prefix = parse_s3_uri(uri)
        client = s3_client if s3_client is not None else context.s3_client()
        return S3Storage(
            client, bucket, prefix, transfers=context.transfers, settings=context.settings.transfers
        )
    if kind == "local":
        from runstash_artifacts.storage.local import LocalStorage

        path = local_path(uri)
        assert path is not None  # kind "local" means it has one
        return LocalStorage(os.path.abspath(path))
    raise ValueError(f"unsupported artifact location {uri!r}: use s3://bucket/prefix or a local path")
