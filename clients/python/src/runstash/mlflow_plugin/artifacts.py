"""Artifacts of a ``runstash://`` deployment, over the artifact service's gRPC byte streams.

The tracking server gives runs ``mlflow-artifacts:/…`` locations (the artifact proxy). With an
http tracking URI, mlflow's own repository reaches the proxy over REST; with a ``runstash://``
tracking URI, :func:`artifact_repository` (registered for the ``mlflow-artifacts`` scheme) hands
out :class:`RunstashArtifactRepository`, which streams files in chunks both ways through
``ArtifactService.UploadArtifact`` / ``DownloadArtifact``: no file is ever held in memory whole.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import grpc
from mlflow.entities import FileInfo
from mlflow.store.artifact.artifact_repo import ArtifactRepository
from mlflow.store.artifact.mlflow_artifacts_repo import MlflowArtifactsRepository
from mlflow.tracking._tracking_service.utils import get_tracking_uri
from runstash_protos import artifacts_pb2 as apb
from runstash_protos import artifacts_pb2_grpc
from runstash_protos.errors import RunstashError, from_rpc_error

from runstash.connection import SCHEME, Endpoint, backoff_delays, call
from runstash.mlflow_plugin.tracking import to_mlflow_error
from runstash.multipart import upload_multipart

CHUNK_BYTES = 1024 * 1024


def artifact_repository(
    artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None
) -> ArtifactRepository:
    """The ``mlflow-artifacts`` repository: gRPC under ``runstash://``, mlflow's own otherwise."""
    effective = tracking_uri or get_tracking_uri()
    if urlparse(effective).scheme == SCHEME:
        return RunstashArtifactRepository(artifact_uri, tracking_uri=effective, registry_uri=registry_uri)
    return MlflowArtifactsRepository(artifact_uri, tracking_uri=tracking_uri, registry_uri=registry_uri)


class RunstashArtifactRepository(ArtifactRepository):  # type: ignore[misc]
    def __init__(
        self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None
    ) -> None:
        super().__init__(artifact_uri, tracking_uri=tracking_uri, registry_uri=registry_uri)
        self._endpoint = Endpoint.from_uri(tracking_uri or get_tracking_uri())
        self._channel = self._endpoint.channel(self._endpoint.artifacts_target)
        self._stub = artifacts_pb2_grpc.ArtifactServiceStub(self._channel)
        # "mlflow-artifacts:/1/abc/artifacts" or "mlflow-artifacts://host:port/1/abc/artifacts"
        self._root = urlparse(artifact_uri).path.strip("/")
        # S3 multipart (resumable) from this size up, when the artifact service offers it.
        self._multipart_min_bytes = int(
            os.environ.get("RUNSTASH_MULTIPART_MIN_BYTES", str(100 * 1024 * 1024))
        )
        self._multipart: bool | None = None

    def _remote(self, path: str | None) -> str:
        return posixpath.join(self._root, path) if path else self._root

    # ------------------------------------------------------------------ uploads

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        name = os.path.basename(local_file)
        target = posixpath.join(artifact_path, name) if artifact_path else name
        self._upload(local_file, self._remote(target))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        local_dir = os.path.abspath(local_dir)
        for folder, _, files in os.walk(local_dir):
            relative = os.path.relpath(folder, local_dir)
            prefix = "" if relative == "." else relative.replace(os.sep, "/")
            base = posixpath.join(artifact_path, prefix) if artifact_path else prefix
            for name in sorted(files):
                target = posixpath.join(base, name) if base else name
                self._upload(os.path.join(folder, name), self._remote(target))

    def _upload(self, local_file: str, remote_path: str) -> None:
        if os.path.getsize(local_file) >= self._multipart_min_bytes and self._multipart_enabled():
            try:
                upload_multipart(self._stub, self._endpoint, local_file, remote_path)
            except RunstashError as error:
                raise to_mlflow_error(error) from None
            return
        self._stream_upload(local_file, remote_path)

    def _multipart_enabled(self) -> bool:
        if self._multipart is None:
            try:
                capabilities = call(
                    self._endpoint, self._stub.GetArtifactCapabilities, apb.GetArtifactCapabilities()
                )
                self._multipart = capabilities.multipart_uploads_enabled
            except RunstashError:
                self._multipart = False
        return self._multipart

    def _stream_upload(self, local_file: str, remote_path: str) -> None:
        """One streamed upload, sent again from the start if the connection fails (a file is
        written whole or not at all, so a retry leaves one copy)."""
        delays = backoff_delays(self._endpoint.retry_budget)
        while True:
            try:
                self._stub.UploadArtifact(
                    _chunks(local_file, remote_path),
                    timeout=None,
                    metadata=self._endpoint.metadata(),
                )
                return
            except grpc.RpcError as error:
                pause = next(delays, None) if error.code() in _RETRIED else None
                if pause is None:
                    raise to_mlflow_error(from_rpc_error(error)) from None
                time.sleep(pause)

    # ------------------------------------------------------------------ reads

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        try:
            response = call(
                self._endpoint, self._stub.ListArtifacts, apb.ListArtifacts(path=self._remote(path))
            )
        except RunstashError as error:
            raise to_mlflow_error(error) from None
        infos = [
            FileInfo(
                posixpath.join(path, f.path) if path else f.path,
                f.is_dir,
                f.file_size if f.HasField("file_size") else None,
            )
            for f in response.files
        ]
        only = infos[0] if len(infos) == 1 else None
        if (
            path is not None
            and only is not None
            and not only.is_dir
            and only.path == posixpath.join(path, posixpath.basename(path))
        ):
            return []  # ``path`` is a file: mlflow lists nothing under a file
        return sorted(infos, key=lambda f: f.path)

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        """Stream one file to ``local_path``; the file is created only once the server answered,
        so a missing artifact leaves nothing behind (mlflow then tries the run's logged model
        at the same local path)."""
        request = apb.DownloadArtifact(path=self._remote(remote_file_path))
        created = False
        try:
            stream = self._stub.DownloadArtifact(request, metadata=self._endpoint.metadata())
            first = next(stream, None)
            with open(local_path, "wb") as f:
                created = True
                if first is not None:
                    f.write(first.data)
                for message in stream:
                    f.write(message.data)
        except grpc.RpcError as error:
            if created:
                os.remove(local_path)
            raise to_mlflow_error(from_rpc_error(error)) from None

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        try:
            call(
                self._endpoint,
                self._stub.DeleteArtifact,
                apb.DeleteArtifact(path=self._remote(artifact_path)),
            )
        except RunstashError as error:
            raise to_mlflow_error(error) from None


_RETRIED = frozenset({grpc.StatusCode.UNAVAILABLE})


def _chunks(local_file: str, remote_path: str) -> Iterator[apb.UploadArtifact]:
    with open(local_file, "rb") as f:
        first = f.read(CHUNK_BYTES)
        yield apb.UploadArtifact(path=remote_path, data=first)
        while chunk := f.read(CHUNK_BYTES):
            yield apb.UploadArtifact(data=chunk)
