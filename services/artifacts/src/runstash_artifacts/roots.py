"""From an artifact URI (a destination, a run's ``artifact_uri``) to the storage that holds it.

``mlflow-artifacts:/<p>`` (and ``http(s)://host/api/2.0/mlflow-artifacts/artifacts/<p>``) map to
the destination root + ``<p>``; ``s3://bucket/prefix`` and local paths (``--no-serve-artifacts``
setups) are read through a backend of their own. Every path taken from a URI goes through the same
safety checks as client paths.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from runstash_protos.errors import ErrorCode, RunstashError

from runstash_artifacts.paths import parse_artifact_path
from runstash_artifacts.storage.base import ArtifactStorage
from runstash_artifacts.storage.local import LocalStorage, open_local_destination

_PROXY_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix)."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an S3 URI: {uri!r}")
    return parsed.netloc, parsed.path.strip("/")


def _default_s3_client() -> Any:
    # boto3 costs ~0.4 s to import: only servers that meet an s3:// URI pay for it.
    from runstash_artifacts.storage.s3 import make_s3_client

    return make_s3_client()


def _local_path_of(uri: str) -> str | None:
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "file":
        return urllib.parse.unquote(parsed.path)
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return uri
    return None


def open_destination(destination: str, s3_client: Any | None = None) -> ArtifactStorage:
    """The storage behind ``--artifacts-destination`` (``s3://bucket/prefix``, ``file://`` or a path)."""
    if destination.startswith("s3://"):
        from runstash_artifacts.storage.s3 import S3Storage

        bucket, prefix = parse_s3_uri(destination)
        return S3Storage(s3_client if s3_client is not None else _default_s3_client(), bucket, prefix)
    local = _local_path_of(destination)
    if local is None:
        raise ValueError(
            f"unsupported artifacts destination {destination!r}: use s3://bucket/prefix or a local path"
        )
    return open_local_destination(local)


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
    """Turns artifact URIs into storages, sharing one S3 client (boto3 clients are thread-safe).

    A run's artifact URI is only opened inside a trusted root: the destination, or a root the
    server itself mints locations under (its ``--default-artifact-root``). Any client may create an
    experiment with ``artifact_location=/host/dir`` or ``s3://another-bucket/x``; a server that
    dereferenced those would read and write host files, or other buckets with the server's own
    credentials, on that client's behalf (MLflow's CVE family in security.md §B).
    """

    def __init__(
        self,
        destination: ArtifactStorage,
        s3_client_factory: Callable[[], Any] = _default_s3_client,
        *,
        trusted_roots: Sequence[str] = (),
    ) -> None:
        self.destination = destination
        self._s3_client_factory = s3_client_factory
        self._s3_client: Any | None = None
        local_roots: list[str] = []
        s3_roots: list[tuple[str, str]] = []
        if isinstance(destination, LocalStorage):
            local_roots.append(destination.root)
        elif destination.kind == "s3":
            s3_roots.append((getattr(destination, "bucket"), getattr(destination, "prefix")))  # noqa: B009
        for root in trusted_roots:
            if root.startswith("s3://"):
                s3_roots.append(parse_s3_uri(root))
            elif (local := _local_path_of(root)) is not None:
                local_roots.append(local)
        self._local_roots = tuple(os.path.realpath(r) for r in local_roots)
        self._s3_roots = tuple(s3_roots)

    def _s3(self) -> Any:
        if self._s3_client is None:
            self._s3_client = self._s3_client_factory()
        return self._s3_client

    def storage_for_uri(self, uri: str) -> ArtifactStorage:
        """The storage rooted at ``uri``; 400 for a traversal in it, 501 for a scheme we cannot read."""
        parsed = urllib.parse.urlparse(uri)
        scheme = parsed.scheme.lower()
        if scheme == "mlflow-artifacts":
            return self.destination.scoped(parse_artifact_path(parsed.path.lstrip("/")))
        if scheme in ("http", "https") and _PROXY_ANCHOR in parsed.path:
            rest = parsed.path.split(_PROXY_ANCHOR, 1)[1]
            return self.destination.scoped(parse_artifact_path(rest.lstrip("/")))
        if scheme == "s3":
            bucket, prefix = parse_s3_uri(uri)
            if not any(_s3_within(bucket, prefix, root) for root in self._s3_roots):
                raise _untrusted(uri)
            from runstash_artifacts.storage.s3 import S3Storage

            if isinstance(self.destination, S3Storage) and self.destination.bucket == bucket:
                client = self.destination.client  # same endpoint: reuse its connection pool
            else:
                client = self._s3()
            return S3Storage(client, bucket, parse_artifact_path(prefix).posix)
        local = _local_path_of(uri)
        if local:
            if ".." in local.replace("\\", "/").split("/"):
                raise RunstashError(ErrorCode.INVALID_PARAMETER_VALUE, "Invalid path")
            real = os.path.realpath(local)
            if not any(_within(real, root) for root in self._local_roots):
                raise _untrusted(uri)
            return LocalStorage(os.path.abspath(local))
        raise RunstashError(
            ErrorCode.NOT_IMPLEMENTED, f"Artifact location {uri!r} is not supported by this server"
        )
