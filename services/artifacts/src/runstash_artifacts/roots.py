"""From an artifact URI (a destination, a run's ``artifact_uri``) to the storage that holds it.

``mlflow-artifacts:/<p>`` (and ``http(s)://host/api/2.0/mlflow-artifacts/artifacts/<p>``) map to
the destination root + ``<p>``; ``s3://bucket/prefix`` and local paths (``--no-serve-artifacts``
setups) are read through a backend of their own. Every path taken from a URI goes through the same
safety checks as client paths.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Sequence

from runstash_protos.errors import ErrorCode, RunstashError

from runstash_artifacts.paths import parse_artifact_path
from runstash_artifacts.settings import ArtifactSettings
from runstash_artifacts.storage.base import ArtifactStorage
from runstash_artifacts.storage.local import LocalStorage
from runstash_artifacts.storage.registry import (
    StorageContext,
    local_path,
    open_storage,
    parse_s3_uri,
    storage_kind,
)

_PROXY_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"


def open_destination(destination: str, context: StorageContext | None = None) -> ArtifactStorage:
    """The storage behind ``--artifacts-destination`` (``s3://bucket/prefix``, ``file://`` or a
    path; a local folder is created if missing)."""
    context = context if context is not None else StorageContext.create(ArtifactSettings())
    if storage_kind(destination) is None:
        raise ValueError(
            f"unsupported artifacts destination {destination!r}: use s3://bucket/prefix or a local path"
        )
    storage = open_storage(destination, context)
    if isinstance(storage, LocalStorage):
        os.makedirs(storage.root, exist_ok=True)
    return storage


def _within(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _s3_within(bucket: str, prefix: str, root: tuple[str, str]) -> bool:
    root_bucket, root_prefix = root
    if bucket != root_bucket:
        return False
    return not root_prefix or prefix == root_prefix or prefix.startswith(root_prefix + "/")


def _untrusted(uri: str) -> RunstashError:
    return RunstashError(
        ErrorCode.INVALID_PARAMETER_VALUE,
        f"Artifact location {uri!r} is outside this server's artifact roots; "
        "the server does not read or write it (clients access such locations directly).",
    )


class ArtifactRoots:
    """Turns artifact URIs into storages through the registry, sharing its S3 client and threads.

    A run's artifact URI is only opened inside a trusted root: the destination, or a root the
    server itself mints locations under (its ``--default-artifact-root``). Any client may create an
    experiment with ``artifact_location=/host/dir`` or ``s3://another-bucket/x``; a server that
    dereferenced those would read and write host files, or other buckets with the server's own
    credentials, on that client's behalf (MLflow's CVE family in security.md §B).
    """

    def __init__(
        self,
        destination: ArtifactStorage,
        context: StorageContext | None = None,
        *,
        trusted_roots: Sequence[str] = (),
    ) -> None:
        self.destination = destination
        self._context = context if context is not None else StorageContext.create(ArtifactSettings())
        local_roots: list[str] = []
        s3_roots: list[tuple[str, str]] = []
        if isinstance(destination, LocalStorage):
            local_roots.append(destination.root)
        elif destination.kind == "s3":
            s3_roots.append((getattr(destination, "bucket"), getattr(destination, "prefix")))  # noqa: B009
        for root in trusted_roots:
            kind = storage_kind(root)
            if kind == "s3":
                s3_roots.append(parse_s3_uri(root))
            elif kind == "local":
                local_roots.append(local_path(root) or "")
        self._local_roots = tuple(os.path.realpath(r) for r in local_roots)
        self._s3_roots = tuple(s3_roots)

    @property
    def context(self) -> StorageContext:
        return self._context

    def local_roots(self) -> list[LocalStorage]:
        """The local folders this service writes under (the destination and trusted roots)."""
        return [LocalStorage(root) for root in dict.fromkeys(self._local_roots)]

    def storage_for_uri(self, uri: str) -> ArtifactStorage:
        """The storage rooted at ``uri``; 400 for a traversal in it, 501 for a scheme we cannot read."""
        parsed = urllib.parse.urlparse(uri)
        scheme = parsed.scheme.lower()
        if scheme == "mlflow-artifacts":
            return self.destination.scoped(parse_artifact_path(parsed.path.lstrip("/")))
        if scheme in ("http", "https") and _PROXY_ANCHOR in parsed.path:
            rest = parsed.path.split(_PROXY_ANCHOR, 1)[1]
            return self.destination.scoped(parse_artifact_path(rest.lstrip("/")))
        kind = storage_kind(uri)
        if kind == "s3":
            bucket, prefix = parse_s3_uri(uri)
            if not any(_s3_within(bucket, prefix, root) for root in self._s3_roots):
                raise _untrusted(uri)
            from runstash_artifacts.storage.s3 import S3Storage

            client = None
            if isinstance(self.destination, S3Storage) and self.destination.bucket == bucket:
                client = self.destination.client  # same endpoint: reuse its connection pool
            safe_prefix = parse_artifact_path(prefix).posix
            return open_storage(f"s3://{bucket}/{safe_prefix}", self._context, s3_client=client)
        local = local_path(uri) if kind == "local" else None
        if local:
            if ".." in local.replace("\\", "/").split("/"):
                raise RunstashError(ErrorCode.INVALID_PARAMETER_VALUE, "Invalid path")
            real = os.path.realpath(local)
            if not any(_within(real, root) for root in self._local_roots):
                raise _untrusted(uri)
            return open_storage(local, self._context)
        raise RunstashError(
            ErrorCode.NOT_IMPLEMENTED, f"Artifact location {uri!r} is not supported by this server"
        )
