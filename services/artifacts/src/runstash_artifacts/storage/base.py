"""The one interface every artifact storage implements: streamed bytes in and out, one level listed.

Implementations take :class:`~runstash_artifacts.paths.ArtifactPath` only, so every path they see
has been through the safety checks. They raise :class:`~runstash_protos.errors.RunstashError`:
RESOURCE_DOES_NOT_EXIST for a missing file, INVALID_PARAMETER_VALUE for a directory where a file
is expected, TEMPORARILY_UNAVAILABLE when the backing store cannot be reached, NOT_IMPLEMENTED for
multipart/presigning on storage that cannot do it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

from runstash_artifacts.paths import RESERVED_PREFIX, ArtifactPath
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter, not_found

DEFAULT_CHUNK_SIZE = 1024 * 1024
# Files being written live next to their target under this prefix until renamed into place;
# listings hide them and no request path may name them, so nothing half-written is ever visible.
TEMP_PREFIX = RESERVED_PREFIX

MULTIPART_UPLOAD_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
MULTIPART_DOWNLOAD_UNSUPPORTED = "Multipart download is not supported for the current artifact repository"
PRESIGNED_UPLOAD_UNSUPPORTED = "Presigned upload is not supported for the current artifact repository"
MAX_MULTIPART_PARTS = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a directory listing."""

    name: str
    is_dir: bool
    size: int | None = None


@dataclass(frozen=True, slots=True)
class PresignedPart:
    part_number: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CompletedPart:
    part_number: int
    etag: str


@dataclass(frozen=True, slots=True)
class MultipartUpload:
    upload_id: str
    parts: list[PresignedPart]


@dataclass(frozen=True, slots=True)
class PresignedDownload:
    url: str
    size: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    url: str
    # Headers the uploader must send (they are part of the signature).
    headers: dict[str, str] = field(default_factory=dict)


class ReadHandle(abc.ABC):
    """An opened file: its size is known, its bytes come in chunks, it must be closed."""

    size: int

    @abc.abstractmethod
    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> ReadHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ArtifactStorage(abc.ABC):
    """Files under one root (a local directory or an S3 bucket/prefix)."""

    kind: str
    supports_multipart: bool = False
    # Where this storage sits under the destination root, for messages: a run's storage says
    # "No such artifact: '1/<run>/artifacts/x'" as MLflow does, not just 'x'.
    shown_prefix: ArtifactPath = ArtifactPath(())

    def shown(self, path: ArtifactPath) -> ArtifactPath:
        return self.shown_prefix.join(path)

    @abc.abstractmethod
    def uri(self, path: ArtifactPath | None = None) -> str:
        """Where ``path`` lives, for messages and logs."""

    @abc.abstractmethod
    def scoped(self, prefix: ArtifactPath) -> ArtifactStorage:
        """The same storage rooted at ``prefix``: nothing outside it is reachable through the result."""

    @abc.abstractmethod
    def write(self, path: ArtifactPath, chunks: Iterable[bytes]) -> int:
        """Store the streamed bytes at ``path`` (replacing a file there) and return the size.

        Atomic: readers see the old file or the complete new one; if ``chunks`` raises or the
        store fails, nothing is left behind.
        """

    @abc.abstractmethod
    def open_read(self, path: ArtifactPath) -> ReadHandle:
        """Open the file at ``path``; 404 if missing, 400 if it is a directory."""

    @abc.abstractmethod
    def list_dir(self, path: ArtifactPath) -> list[Entry]:
        """One level under ``path``, sorted by name; empty if ``path`` is missing or a file."""

    @abc.abstractmethod
    def delete(self, path: ArtifactPath) -> None:
        """Delete the file or the directory tree at ``path``; a missing path is not an error."""

    def create_multipart_upload(self, path: ArtifactPath, num_parts: int) -> MultipartUpload:
        raise RunstashError(ErrorCode.NOT_IMPLEMENTED, MULTIPART_UPLOAD_UNSUPPORTED)

    def complete_multipart_upload(
        self, path: ArtifactPath, upload_id: str, parts: list[CompletedPart]
    ) -> None:
        raise RunstashError(ErrorCode.NOT_IMPLEMENTED, MULTIPART_UPLOAD_UNSUPPORTED)

    def abort_multipart_upload(self, path: ArtifactPath, upload_id: str) -> None:
        raise RunstashError(ErrorCode.NOT_IMPLEMENTED, MULTIPART_UPLOAD_UNSUPPORTED)

    def presigned_download(self, path: ArtifactPath, expires_in: int) -> PresignedDownload:
        raise RunstashError(ErrorCode.NOT_IMPLEMENTED, MULTIPART_DOWNLOAD_UNSUPPORTED)

    def presigned_upload(self, path: ArtifactPath, expires_in: int) -> PresignedUpload:
        raise RunstashError(ErrorCode.NOT_IMPLEMENTED, PRESIGNED_UPLOAD_UNSUPPORTED)


def no_such_artifact(path: ArtifactPath) -> RunstashError:
    return not_found(f"No such artifact: '{path}'")


def is_a_directory(path: ArtifactPath) -> RunstashError:
    return invalid_parameter(f"Artifact path refers to a directory, not a file: '{path}'")


def storage_unavailable(detail: str) -> RunstashError:
    return RunstashError(ErrorCode.TEMPORARILY_UNAVAILABLE, f"Artifact storage is unavailable: {detail}")


def check_num_parts(num_parts: int) -> None:
    if not 0 <= num_parts <= MAX_MULTIPART_PARTS:
        raise invalid_parameter(f"num_parts must be between 1 and {MAX_MULTIPART_PARTS}, got {num_parts}")
