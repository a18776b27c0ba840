"""Artifacts in an S3 bucket under a key prefix (AWS, MinIO, SeaweedFS...), through boto3.

Uploads stream: bytes are gathered into parts of ``part_size`` and sent with ``upload_part`` as
they arrive, so memory stays at about one part whatever the file size; the object only appears
when the multipart upload completes, and a failed upload is aborted.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
import urllib.parse
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from runstash_artifacts.paths import INVALID_PATH, ArtifactPath
from runstash_artifacts.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ArtifactStorage,
    CompletedPart,
    Entry,
    MultipartUpload,
    PresignedDownload,
    PresignedPart,
    PresignedUpload,
    ReadHandle,
    check_num_parts,
    is_a_directory,
    no_such_artifact,
    storage_unavailable,
)
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter, not_found

log = logging.getLogger("runstash.artifacts.s3")

DEFAULT_PART_SIZE = 8 * 1024 * 1024
_MAX_PART_SIZE = 5 * 1024**3
# S3 allows 10,000 parts; doubling the part size every 1,000 parts keeps unknown-length streams
# far below that limit (8 MiB parts reach ~8 TB).
_PARTS_PER_SIZE_STEP = 1000
_DELETE_BATCH = 1000
# Parts of one streamed upload in the pipeline: up to three go out while the next fills, so memory
# stays at about four parts per upload (one part at a time reached only ~45% of boto3's own
# multi-threaded upload speed on SeaweedFS). The pool is shared by all uploads (boto3 clients are
# thread-safe); when it is busy, uploads wait, which is the backpressure.
_PARTS_IN_FLIGHT = 4
_PART_SENDERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="s3-part")
_MIME = mimetypes.MimeTypes()
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_RETRYABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed", "503"}
)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def make_s3_client(endpoint_url: str | None = None) -> Any:
    """A boto3 S3 client configured as MLflow's: SigV4, path-style, endpoint from the environment.

    The endpoint comes from ``MLFLOW_S3_ENDPOINT_URL`` (else ``AWS_ENDPOINT_URL``, else AWS);
    credentials from the usual boto3 chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``...).
    """
    endpoint = endpoint_url or os.environ.get("MLFLOW_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=64,
        # Checksums only where S3 demands them: S3-compatible servers differ in what they accept.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region,
        config=config,
        verify=not _env_flag("MLFLOW_S3_IGNORE_TLS"),
    )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


@contextlib.contextmanager
def _s3_errors() -> Iterator[None]:
    """Map what boto3 raises to the domain errors: unreachable or overloaded store -> 503."""
    try:
        yield
    except NoCredentialsError as error:
        log.error("no S3 credentials configured: %s", error)
        raise RunstashError(
            ErrorCode.INTERNAL_ERROR, "Artifact storage credentials are not configured"
        ) from error
    except BotoCoreError as error:  # connection refused, timeouts, closed connections...
        raise storage_unavailable(str(error)) from error
    except ClientError as error:
        code, status = _error_code(error), _http_status(error)
        if code == "KeyTooLongError":
            raise invalid_parameter(INVALID_PATH) from error
        if code in _RETRYABLE_CODES or status >= 500:
            raise storage_unavailable(code or str(status)) from error
        log.error("S3 request failed: %s", error)
        raise RunstashError(ErrorCode.INTERNAL_ERROR, f"Artifact storage request failed: {code}") from error


def _content_disposition(name: str) -> str:
    quoted = urllib.parse.quote(name, safe="")
    return f"attachment; filename*=UTF-8''{quoted}"


class _S3ReadHandle(ReadHandle):
    def __init__(self, body: Any, size: int) -> None:
        self._body = body
        self.size = size

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        with _s3_errors():
            yield from self._body.iter_chunks(chunk_size)

    def close(self) -> None:
        self._body.close()


class _PartUploader:
    """One multipart upload fed part by part: a part goes out while the next one fills."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._upload_id: str | None = None
        self._in_flight: deque[Future[dict[str, Any]]] = deque()
        self._done: list[dict[str, Any]] = []

    @property
    def started(self) -> bool:
        return self._upload_id is not None

    @property
    def part_count(self) -> int:
        return len(self._done) + len(self._in_flight)

    def _upload_part(self, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        response = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def send(self, data: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)[
                "UploadId"
            ]
        number = self.part_count + 1
        self._in_flight.append(_PART_SENDERS.submit(self._upload_part, self._upload_id, number, data))
        while len(self._in_flight) >= _PARTS_IN_FLIGHT:
            self._done.append(self._in_flight.popleft().result())

    def complete(self) -> None:
        while self._in_flight:
            self._done.append(self._in_flight.popleft().result())
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._done},
        )

    def abort(self) -> None:
        """Let parts on the wire finish (or fail), then abort so S3 drops every stored part."""
        for future in self._in_flight:
            future.cancel()
        for future in self._in_flight:
            with contextlib.suppress(BaseException):
                future.result()
        self._in_flight.clear()
        if self._upload_id is None:
            return
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
        except (BotoCoreError, ClientError) as error:
            # The store may still be down; S3 lifecycle rules clean up uploads never completed.
            log.warning("could not abort multipart upload %s of %s: %s", self._upload_id, self._key, error)


class S3Storage(ArtifactStorage):
    kind = "s3"
    supports_multipart = True

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        part_size: int = DEFAULT_PART_SIZE,
        shown_prefix: ArtifactPath | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 artifact location needs a bucket: s3://<bucket>/<prefix>")
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._part_size = part_size
        if shown_prefix is not None:
            self.shown_prefix = shown_prefix

    @property
    def client(self) -> Any:
        return self._client

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def prefix(self) -> str:
        return self._prefix

    def uri(self, path: ArtifactPath | None = None) -> str:
        key = self._key(path) if path else self._prefix
        return f"s3://{self._bucket}/{key}" if key else f"s3://{self._bucket}"

    def scoped(self, prefix: ArtifactPath) -> S3Storage:
        return S3Storage(
            self._client,
            self._bucket,
            self._key(prefix),
            part_size=self._part_size,
            shown_prefix=self.shown(prefix),
        )

    def _key(self, path: ArtifactPath) -> str:
        if not self._prefix or path.is_root:
            return self._prefix or path.posix
        return f"{self._prefix}/{path.posix}"

    def _dir_prefix(self, path: ArtifactPath) -> str:
        key = self._key(path)
        return f"{key}/" if key else ""

    # -- streamed upload

    def write(self, path: ArtifactPath, chunks: Iterable[bytes]) -> int:
        if path.is_root:
            raise invalid_parameter(INVALID_PATH)
        key = self._key(path)
        buffer = bytearray()
        upload = _PartUploader(self._client, self._bucket, key)
        total = 0
        try:
            with _s3_errors():
                for chunk in chunks:
                    buffer += chunk
                    total += len(chunk)
                    step = upload.part_count // _PARTS_PER_SIZE_STEP
                    if len(buffer) >= min(self._part_size * 2**step, _MAX_PART_SIZE):
                        data = bytes(buffer)
                        buffer.clear()
                        upload.send(data)
                        del data
                if not upload.started:
                    self._client.put_object(Bucket=self._bucket, Key=key, Body=bytes(buffer))
                else:
                    if buffer:
                        upload.send(bytes(buffer))
                        buffer.clear()
                    upload.complete()
        except BaseException:
            upload.abort()
            raise
        return total

    # -- download, list, delete

    def _is_dir(self, path: ArtifactPath) -> bool:
        response = self._client.list_objects_v2(Bucket=self._bucket, Prefix=self._dir_prefix(path), MaxKeys=1)
        return bool(response.get("KeyCount") or response.get("Contents") or response.get("CommonPrefixes"))

    def open_read(self, path: ArtifactPath) -> ReadHandle:
        if path.is_root:
            raise is_a_directory(self.shown(path))
        with _s3_errors():
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=self._key(path))
            except ClientError as error:
                if _error_code(error) not in _MISSING_CODES:
                    raise
                if self._is_dir(path):
                    raise is_a_directory(self.shown(path)) from error
                raise no_such_artifact(self.shown(path)) from error
        return _S3ReadHandle(response["Body"], int(response.get("ContentLength", 0)))

    def list_dir(self, path: ArtifactPath) -> list[Entry]:
        prefix = self._dir_prefix(path)
        entries: dict[str, Entry] = {}
        with _s3_errors():
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix) :].rstrip("/")
                    if name:
                        entries[name] = Entry(name, True)
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(prefix) :]
                    if name and name not in entries:
                        entries[name] = Entry(name, False, int(obj.get("Size", 0)))
        return sorted(entries.values(), key=lambda entry: entry.name)

    def delete(self, path: ArtifactPath) -> None:
        if path.is_root:
            raise invalid_parameter(INVALID_PATH)
        with _s3_errors():
            self._client.delete_object(Bucket=self._bucket, Key=self._key(path))
            paginator = self._client.get_paginator("list_objects_v2")
            batch: list[dict[str, str]] = []
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._dir_prefix(path)):
                for obj in page.get("Contents", []):
                    batch.append({"Key": obj["Key"]})
                    if len(batch) == _DELETE_BATCH:
                        self._delete_batch(batch)
                        batch = []
            if batch:
                self._delete_batch(batch)
            # Filer-backed stores (SeaweedFS) keep emptied folders as common prefixes until the
            # folder key itself is deleted; on AWS this deletes nothing.
            self._client.delete_object(Bucket=self._bucket, Key=self._dir_prefix(path))

    def _delete_batch(self, batch: list[dict[str, str]]) -> None:
        response = self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True})
        if response.get("Errors"):
            failed = response["Errors"][0]
            raise RunstashError(
                ErrorCode.INTERNAL_ERROR,
                f"Could not delete artifact '{failed.get('Key')}': {failed.get('Code')}",
            )

    # -- client-driven multipart upload and presigned download

    def create_multipart_upload(self, path: ArtifactPath, num_parts: int) -> MultipartUpload:
        check_num_parts(num_parts)
        key = self._key(path)
        with _s3_errors():
            upload_id = self._client.create_multipart_upload(Bucket=self._bucket, Key=key)["UploadId"]
            parts = [
                PresignedPart(
                    number,
                    self._client.generate_presigned_url(
                        "upload_part",
                        Params={
                            "Bucket": self._bucket,
                            "Key": key,
                            "UploadId": upload_id,
                            "PartNumber": number,
                        },
                    ),
                )
                for number in range(1, num_parts + 1)
            ]
        return MultipartUpload(upload_id, parts)

    def complete_multipart_upload(
        self, path: ArtifactPath, upload_id: str, parts: list[CompletedPart]
    ) -> None:
        if not upload_id:
            raise invalid_parameter("Missing value for required parameter 'upload_id'.")
        ordered = sorted(parts, key=lambda part: part.part_number)
        with _s3_errors():
            try:
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._key(path),
                    UploadId=upload_id,
                    MultipartUpload={
                        "Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in ordered]
                    },
                )
            except ClientError as error:
                self._raise_multipart_client_error(error, upload_id)

    def abort_multipart_upload(self, path: ArtifactPath, upload_id: str) -> None:
        if not upload_id:
            raise invalid_parameter("Missing value for required parameter 'upload_id'.")
        with _s3_errors():
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key(path), UploadId=upload_id
                )
            except ClientError as error:
                self._raise_multipart_client_error(error, upload_id)

    @staticmethod
    def _raise_multipart_client_error(error: ClientError, upload_id: str) -> None:
        code = _error_code(error)
        if code == "NoSuchUpload":
            raise not_found(f"Multipart upload '{upload_id}' does not exist") from error
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML", "InvalidArgument"):
            message = error.response.get("Error", {}).get("Message") or code
            raise invalid_parameter(f"Invalid multipart upload: {message}") from error
        raise error

    def presigned_download(self, path: ArtifactPath, expires_in: int) -> PresignedDownload:
        if path.is_root:
            raise is_a_directory(self.shown(path))
        key = self._key(path)
        with _s3_errors():
            try:
                head = self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as error:
                if _error_code(error) not in _MISSING_CODES:
                    raise
                raise no_such_artifact(self.shown(path)) from error
            url = self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "ResponseContentDisposition": _content_disposition(path.name),
                },
                ExpiresIn=expires_in,
            )
        return PresignedDownload(url, int(head.get("ContentLength", 0)))

    def presigned_upload(self, path: ArtifactPath, expires_in: int) -> PresignedUpload:
        if path.is_root:
            raise invalid_parameter(INVALID_PATH)
        content_type = _MIME.guess_type(path.name, strict=False)[0] or "application/octet-stream"
        with _s3_errors():
            url = self._client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self._bucket, "Key": self._key(path), "ContentType": content_type},
                ExpiresIn=expires_in,
            )
        return PresignedUpload(url, {"Content-Type": content_type})
