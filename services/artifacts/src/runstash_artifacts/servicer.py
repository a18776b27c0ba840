"""The artifact gRPC servicer: request checks, then storage. Raises RunstashError, never aborts.

It is a plain object behind the generated interface, so the gateway may call it in-process (with
a stub context) or over gRPC; byte streams follow the gateway contract (first upload message
carries the path, first download message carries the headers).
"""

from __future__ import annotations

import logging
import posixpath
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from runstash_protos import artifacts_pb2 as pb
from runstash_protos.artifacts_pb2_grpc import ArtifactServiceServicer
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter
from runstash_protos.metrics import count_artifact_bytes

from runstash_artifacts.headers import download_headers
from runstash_artifacts.paths import (
    ROOT,
    ArtifactPath,
    multipart_file_name,
    parse_artifact_path,
    parse_file_path,
)
from runstash_artifacts.resolver import ArtifactRootResolver, NoResolver
from runstash_artifacts.roots import ArtifactRoots
from runstash_artifacts.settings import ArtifactSettings
from runstash_artifacts.storage.base import ArtifactStorage, CompletedPart, Entry
from runstash_artifacts.storage.registry import StorageContext

log = logging.getLogger("runstash.artifacts")

SERVICE_NAME = "runstash.artifacts.ArtifactService"
_MAX_PRESIGNED_SECONDS = 7 * 24 * 3600


def _missing(name: str) -> RunstashError:
    return invalid_parameter(
        f"Missing value for required parameter '{name}'. "
        "See the API docs for more information about request parameters."
    )


def _optional_path(message: Any, field: str) -> ArtifactPath:
    return parse_artifact_path(getattr(message, field)) if message.HasField(field) else ROOT


def _upload_chunks(first: Any, rest: Iterator[Any]) -> Iterator[bytes]:
    if first.data:
        count_artifact_bytes("in", len(first.data))
        yield first.data
    for message in rest:
        if message.data:
            count_artifact_bytes("in", len(message.data))
            yield message.data


def _proxied_scheme(uri: str) -> str | None:
    """The scheme of a root served through this server's proxy (no direct cloud access), if any."""
    scheme = urllib.parse.urlparse(uri).scheme.lower()
    return scheme if scheme in ("http", "https", "mlflow-artifacts") else None


def _limited(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """The UI upload rules: 1 byte to ``limit`` bytes, checked as the bytes stream by."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise invalid_parameter("Artifact size is too large. Max size is 10MB.")
        yield chunk
    if total == 0:
        raise invalid_parameter("Request must specify data.")


def _file_infos(entries: list[Entry], base: ArtifactPath | None) -> list[pb.FileInfo]:
    """Entries as FileInfo; ``base`` set = paths relative to a run/model root, else basenames."""
    infos = []
    for entry in entries:
        path = posixpath.join(base.posix, entry.name) if base is not None and not base.is_root else entry.name
        info = pb.FileInfo(path=path, is_dir=entry.is_dir)
        if not entry.is_dir and entry.size:  # MLflow omits the size of empty files
            info.file_size = entry.size
        infos.append(info)
    return infos


class ArtifactServicer(ArtifactServiceServicer):
    """Serves the artifact destination (``mlflow-artifacts:/``) and run/model artifact roots."""

    def __init__(
        self,
        roots: ArtifactRoots,
        resolver: ArtifactRootResolver | None = None,
        settings: ArtifactSettings | None = None,
    ) -> None:
        self._roots = roots
        self._resolver: ArtifactRootResolver = resolver if resolver is not None else NoResolver()
        self._settings = settings if settings is not None else ArtifactSettings()

    @property
    def destination(self) -> ArtifactStorage:
        return self._roots.destination

    def close(self) -> None:
        """Stop the service's transfer threads (and any background job still running)."""
        self._roots.context.close()

    # ------------------------------------------------------------ mlflow-artifacts proxy

    def UploadArtifact(
        self, request_iterator: Iterator[pb.UploadArtifact], context: Any
    ) -> pb.UploadArtifact.Response:
        messages = iter(request_iterator)
        first = next(messages, None)
        if first is None or not first.HasField("path"):
            raise _missing("path")
        path = parse_file_path(first.path)
        self.destination.write(path, _upload_chunks(first, messages))
        return pb.UploadArtifact.Response()

    def DownloadArtifact(
        self, request: pb.DownloadArtifact, context: Any
    ) -> Iterator[pb.DownloadArtifact.Response]:
        path = parse_artifact_path(request.path)
        yield from self._send(self.destination, path)

    def ListArtifacts(self, request: pb.ListArtifacts, context: Any) -> pb.ListArtifacts.Response:
        path = _optional_path(request, "path")
        return pb.ListArtifacts.Response(files=_file_infos(self.destination.list_dir(path), None))

    def DeleteArtifact(self, request: pb.DeleteArtifact, context: Any) -> pb.DeleteArtifact.Response:
        path = parse_artifact_path(request.path, allow_root=False)
        self.destination.delete(path)
        return pb.DeleteArtifact.Response()

    def CreateMultipartUpload(
        self, request: pb.CreateMultipartUpload, context: Any
    ) -> pb.CreateMultipartUpload.Response:
        path = self._multipart_target(request)
        upload = self.destination.create_multipart_upload(path, request.num_parts)
        return pb.CreateMultipartUpload.Response(
            upload_id=upload.upload_id,
            credentials=[
                pb.MultipartUploadCredential(url=part.url, part_number=part.part_number, headers=part.headers)
                for part in upload.parts
            ],
        )

    def CompleteMultipartUpload(
        self, request: pb.CompleteMultipartUpload, context: Any
    ) -> pb.CompleteMultipartUpload.Response:
        path = self._multipart_target(request)
        if not request.parts:
            raise _missing("parts")
        parts = [CompletedPart(part.part_number, part.etag) for part in request.parts]
        self.destination.complete_multipart_upload(path, request.upload_id, parts)
        return pb.CompleteMultipartUpload.Response()

    def AbortMultipartUpload(
        self, request: pb.AbortMultipartUpload, context: Any
    ) -> pb.AbortMultipartUpload.Response:
        path = self._multipart_target(request)
        self.destination.abort_multipart_upload(path, request.upload_id)
        return pb.AbortMultipartUpload.Response()

    def GetPresignedDownloadUrl(
        self, request: pb.GetPresignedDownloadUrl, context: Any
    ) -> pb.GetPresignedDownloadUrl.Response:
        path = parse_artifact_path(request.path)
        presigned = self.destination.presigned_download(path, self._settings.presigned_download_ttl_seconds)
        return pb.GetPresignedDownloadUrl.Response(
            url=presigned.url, headers=presigned.headers, file_size=presigned.size
        )

    # ------------------------------------------------------------ run / logged-model scoped

    def GetRunArtifact(
        self, request: pb.GetRunArtifact, context: Any
    ) -> Iterator[pb.DownloadArtifact.Response]:
        run_id = request.run_id or request.run_uuid
        if not run_id:
            raise _missing("run_id")
        if not request.path:
            raise _missing("path")
        path = parse_artifact_path(request.path)
        yield from self._send(self._run_storage(run_id), path)

    def ListRunArtifacts(self, request: pb.ListRunArtifacts, context: Any) -> pb.ListRunArtifacts.Response:
        run_id = request.run_id or request.run_uuid
        if not run_id:
            raise _missing("run_id")
        path = _optional_path(request, "path")
        root_uri = self._resolver.run_artifact_uri(run_id)
        entries = self._roots.storage_for_uri(root_uri).list_dir(path)
        return pb.ListRunArtifacts.Response(root_uri=root_uri, files=_file_infos(entries, path))

    def UploadRunArtifact(
        self, request_iterator: Iterator[pb.UploadRunArtifact], context: Any
    ) -> pb.UploadRunArtifact.Response:
        messages = iter(request_iterator)
        first = next(messages, None)
        if first is None:
            raise invalid_parameter("Request must specify run_uuid.")
        run_id = first.run_uuid or first.run_id
        if not run_id:
            raise invalid_parameter("Request must specify run_uuid.")
        if not first.path:
            raise invalid_parameter("Request must specify path.")
        path = parse_file_path(first.path)
        storage = self._run_storage(run_id)
        storage.write(path, _limited(_upload_chunks(first, messages), self._settings.ui_upload_limit))
        return pb.UploadRunArtifact.Response()

    def ListLoggedModelArtifacts(
        self, request: pb.ListLoggedModelArtifacts, context: Any
    ) -> pb.ListLoggedModelArtifacts.Response:
        if not request.model_id:
            raise _missing("model_id")
        path = _optional_path(request, "artifact_directory_path")
        root_uri = self._resolver.logged_model_artifact_uri(request.model_id)
        entries = self._roots.storage_for_uri(root_uri).list_dir(path)
        return pb.ListLoggedModelArtifacts.Response(root_uri=root_uri, files=_file_infos(entries, path))

    def GetLoggedModelArtifact(
        self, request: pb.GetLoggedModelArtifact, context: Any
    ) -> Iterator[pb.DownloadArtifact.Response]:
        if not request.artifact_file_path:
            raise RunstashError(
                ErrorCode.BAD_REQUEST, 'Request must include the "artifact_file_path" query parameter.'
            )
        if not request.model_id:
            raise _missing("model_id")
        path = parse_artifact_path(request.artifact_file_path)
        storage = self._roots.storage_for_uri(self._resolver.logged_model_artifact_uri(request.model_id))
        yield from self._send(storage, path)

    def CreatePresignedUploadUrl(
        self, request: pb.CreatePresignedUploadUrl, context: Any
    ) -> pb.CreatePresignedUploadUrl.Response:
        if bool(request.run_id) == bool(request.model_id):
            raise invalid_parameter("Exactly one of run_id and model_id must be provided.")
        if not request.path:
            raise _missing("path")
        path = parse_file_path(request.path)
        expiration = request.expiration if request.HasField("expiration") else 900
        if request.run_id:
            root_uri = self._resolver.run_artifact_uri(request.run_id)
        else:
            root_uri = self._resolver.logged_model_artifact_uri(request.model_id)
        scheme = _proxied_scheme(root_uri)
        if scheme is not None:
            raise invalid_parameter(
                "Presigned upload is not supported for proxied artifact storage "
                f"(artifact URI scheme: {scheme}). "
                "This endpoint requires a direct cloud storage artifact URI."
            )
        presigned = self._roots.storage_for_uri(root_uri).presigned_upload(path, expiration)
        return pb.CreatePresignedUploadUrl.Response(presigned_url=presigned.url, headers=presigned.headers)

    def CreatePresignedDownloadUrl(
        self, request: pb.CreatePresignedDownloadUrl, context: Any
    ) -> pb.CreatePresignedDownloadUrl.Response:
        if not request.run_id:
            raise _missing("run_id")
        if not request.path:
            raise _missing("path")
        path = parse_artifact_path(request.path)
        expiration = (
            request.expiration
            if request.HasField("expiration")
            else self._settings.presigned_download_ttl_seconds
        )
        if not 1 <= expiration <= _MAX_PRESIGNED_SECONDS:
            # Cloud providers cap signed URLs at 7 days and only fail when the URL is used.
            raise invalid_parameter(
                f"expiration must be between 1 and {_MAX_PRESIGNED_SECONDS} seconds (got {expiration})."
            )
        root_uri = self._resolver.run_artifact_uri(request.run_id)
        scheme = _proxied_scheme(root_uri)
        if scheme is not None:
            raise invalid_parameter(
                "Presigned download is not supported for runs with proxied artifact storage "
                f"(artifact URI scheme: {scheme}). "
                "This endpoint requires a run with a direct cloud storage artifact URI."
            )
        presigned = self._roots.storage_for_uri(root_uri).presigned_download(path, expiration)
        return pb.CreatePresignedDownloadUrl.Response(
            presigned_url=presigned.url, headers=presigned.headers, file_size=presigned.size
        )

    # ------------------------------------------------------------ capabilities

    def GetArtifactCapabilities(
        self, request: pb.GetArtifactCapabilities, context: Any
    ) -> pb.GetArtifactCapabilities.Response:
        presigns = self.destination.supports_multipart
        return pb.GetArtifactCapabilities.Response(
            multipart_uploads_enabled=self._settings.multipart_upload_enabled and presigns,
            multipart_downloads_enabled=self._settings.multipart_download_enabled and presigns,
            storage_kind=self.destination.kind,
            presigned_upload_run_id_supported=True,
            presigned_upload_model_id_supported=True,
        )

    # ------------------------------------------------------------ helpers

    def stream_file(self, root_uri: str, path: ArtifactPath) -> Iterator[pb.DownloadArtifact.Response]:
        """One file under ``root_uri`` (a trusted root only), as the download routes stream it."""
        yield from self._send(self._roots.storage_for_uri(root_uri), path)

    def run_root(self, run_id: str) -> str:
        return self._resolver.run_artifact_uri(run_id)

    def _run_storage(self, run_id: str) -> ArtifactStorage:
        return self._roots.storage_for_uri(self._resolver.run_artifact_uri(run_id))

    def _multipart_target(self, request: Any) -> ArtifactPath:
        directory = parse_artifact_path(request.artifact_path)
        name = multipart_file_name(request.path if request.HasField("path") else None)
        return directory.join(ArtifactPath((name,)))

    def _send(self, storage: ArtifactStorage, path: ArtifactPath) -> Iterator[pb.DownloadArtifact.Response]:
        """Headers first (the file is open, so its size is known), then ~1 MiB chunks."""
        with storage.open_read(path) as handle:
            yield pb.DownloadArtifact.Response(headers=download_headers(path.name, handle.size))
            for chunk in handle.iter_chunks(self._settings.download_chunk_size):
                count_artifact_bytes("out", len(chunk))
                yield pb.DownloadArtifact.Response(data=chunk)


def build_servicer(
    destination: str | ArtifactStorage,
    resolver: ArtifactRootResolver | None = None,
    settings: ArtifactSettings | None = None,
) -> ArtifactServicer:
    """The servicer for ``destination`` (``s3://bucket/prefix``, a path or a storage), with the
    threads and clients it owns; ``close()`` it when done. Settings default to the environment's,
    parsed here once."""
    from runstash_artifacts.roots import open_destination

    settings = settings if settings is not None else ArtifactSettings.from_env()
    context = StorageContext.create(settings)
    storage = open_destination(destination, context) if isinstance(destination, str) else destination
    roots = ArtifactRoots(storage, context, trusted_roots=settings.trusted_roots)
    if settings.stale_upload_seconds > 0:
        context.transfers.submit(_remove_stale_uploads, roots, settings.stale_upload_seconds)
    return ArtifactServicer(roots, resolver, settings)


def _remove_stale_uploads(roots: ArtifactRoots, max_age_s: int) -> None:
    """Start-up sweep of what killed uploads left behind, off the serving path."""
    stopping = roots.context.transfers.stopping
    for storage in roots.local_roots():
        try:
            removed = storage.remove_stale_uploads(max_age_s, stopping)
        except OSError as error:
            log.warning("could not sweep stale uploads under %s: %s", storage.root, error)
            continue
        if removed:
            log.info("removed %d stale upload temporaries under %s", removed, storage.root)
