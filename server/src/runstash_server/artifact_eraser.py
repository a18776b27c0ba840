"""Deleting the artifacts of what gc removes: a run's or logged model's folder, local or on S3.

``mlflow-artifacts:/…`` locations (and the proxy's http form) lie under ``--artifacts-destination``;
``s3://`` and local locations (``--no-serve-artifacts`` setups) are opened as they are. A location
ending in ``<id>/artifacts`` goes with its ``<id>`` folder, so no empty folder stays behind.
Deleting what is already gone is a no-op: a gc interrupted after the files went and before the
rows did deletes nothing twice.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from runstash_artifacts.paths import ArtifactPath, parse_artifact_path
from runstash_artifacts.roots import open_destination
from runstash_artifacts.settings import ArtifactSettings
from runstash_artifacts.storage.base import ArtifactStorage
from runstash_artifacts.storage.registry import StorageContext, open_storage, storage_kind

_PROXY_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"
_PARALLEL = 8


class ArtifactEraser:
    """Deletes artifact folders, several at once (S3 deletes are round trips)."""

    def __init__(self, destination: str, warn: Callable[[str], None]) -> None:
        self._destination_uri = destination
        self._context = StorageContext.create(ArtifactSettings.from_env())
        self._destination: ArtifactStorage | None = None
        self._warn = warn
        self._pool = ThreadPoolExecutor(_PARALLEL, thread_name_prefix="gc-artifacts")

    def _proxied(self) -> ArtifactStorage:
        if self._destination is None:
            self._destination = open_destination(self._destination_uri, self._context)
        return self._destination

    def _locate(self, uri: str, owner_id: str) -> tuple[ArtifactStorage, ArtifactPath] | None:
        """(storage, folder to delete in it), or None for a location gc cannot open."""
        parsed = urllib.parse.urlparse(uri)
        scheme = parsed.scheme.lower()
        if scheme == "mlflow-artifacts" or (scheme in ("http", "https") and _PROXY_ANCHOR in parsed.path):
            rest = parsed.path.split(_PROXY_ANCHOR, 1)[1] if scheme != "mlflow-artifacts" else parsed.path
            storage, path = self._proxied(), parse_artifact_path(rest.lstrip("/"))
        elif storage_kind(uri) is not None:
            base, _, last = uri.rstrip("/").rpartition("/")
            if not base or base.endswith(":/") or base.endswith(":"):
                return None
            storage, path = open_storage(base, self._context), parse_artifact_path(last)
        else:
            return None
        if path.name == "artifacts" and path.parent.name == owner_id:
            path = path.parent
        return (storage, path) if not path.is_root else None

    def _erase(self, uri: str | None, owner_id: str) -> None:
        if not uri:
            return
        try:
            located = self._locate(uri, owner_id)
        except ValueError:
            located = None
        if located is None:
            self._warn(
                f"Cannot resolve artifact location {uri!r} of {owner_id}; its artifacts are left in place."
            )
            return
        storage, path = located
        storage.delete(path)

    def erase(self, owners: Sequence[tuple[str, str | None]]) -> None:
        """Delete the artifacts of every (id, location); raises the first failure after all ran."""
        futures = [self._pool.submit(self._erase, uri, owner) for owner, uri in owners]
        errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._context.close()
