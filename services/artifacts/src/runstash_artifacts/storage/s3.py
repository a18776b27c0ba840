"""Artifacts in an S3 bucket under a key prefix (AWS, MinIO, SeaweedFS...), through boto3.

Uploads stream: bytes are gathered into parts of ``part_size`` and sent with ``upload_part`` as
they arrive (several in flight, :mod:`.s3_streams`), so memory stays bounded whatever the file
size; the object only appears when the multipart upload completes, and a failed upload is
aborted. Downloads are ranged GETs fetched ahead in parallel.
"""

from __future__ import annotations

import logging
import mimetypes
import urllib.parse
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from runstash_artifacts.paths import INVALID_PATH, ArtifactPath
from runstash_artifacts.settings import S3Settings, TransferSettings
from runstash_artifacts.storage.base import (
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
)
from runstash_artifacts.storage.s3_errors import MISSING_CODES, error_code, s3_errors
from runstash_artifacts.storage.s3_streams import (
    PartUploader,
    RangedReadHandle,
    WholeReadHandle,
    content_range,
)
from runstash_artifacts.transfers import TransferPool
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter, not_found

log = logging.getLogger("runstash.artifacts.s3")

DEFAULT_PART_SIZE = TransferSettings().part_size
_MAX_PART_SIZE = 5 * 1024**3
# S3 allows 10,000 parts; doubling the part size every 1,000 parts keeps unknown-length streams
# far below that limit (from 5 MiB parts, 10,000 parts reach ~5 TB).
_PARTS_PER_SIZE_STEP = 1000
_DELETE_BATCH = 1000
_MIME = mimetypes.MimeTypes()


def make_s3_client(endpoint_url: str | None = None, *, settings: S3Settings | None = None) -> Any:
    """A boto3 S3 client configured as MLflow's: SigV4, path-style, endpoint from the settings
    (parsed from the environment when not given); credentials from the usual boto3 chain."""
    s3 = settings if settings is not None else S3Settings.from_env()
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
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or s3.endpoint_url,
        region_name=s3.region,
        config=config,
        verify=s3.verify_tls,
    )


def _content_disposition(name: str) -> str:
    quoted = urllib.parse.quote(name, safe="")
    return f"attachment; filename*=UTF-8''{quoted}"


class S3Storage(ArtifactStorage):
    kind = "s3"
    supports_multipart = True

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        part_size: int | None = None,
        transfers: TransferPool | None = None,
        settings: TransferSettings | None = None,
        shown_prefix: ArtifactPath | None = None,
    ) -> None:
        """``transfers`` (the service's threads) lets parts and ranges travel in parallel; without
        it, one request at a time. ``part_size`` overrides ``settings.part_size``."""
        if not bucket:
            raise ValueError("an S3 artifact location needs a bucket: s3://<bucket>/<prefix>")
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._settings = settings if settings is not None else TransferSettings()
        self._part_size = part_size if part_size is not None else self._settings.part_size
        self._transfers = transfers
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
            transfers=self._transfers,
            settings=self._settings,
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
        upload = PartUploader(
            self._client, self._bucket, key, self._transfers, self._settings.parts_in_flight
        )
        try:
            with s3_errors():
                return self._write_parts(upload, key, chunks)
        except BaseException:
            upload.abort()
            raise

    def _size_of_part(self, parts_sent: int) -> int:
        return min(self._part_size << (parts_sent // _PARTS_PER_SIZE_STEP), _MAX_PART_SIZE)

    def _write_parts(self, upload: PartUploader, key: str, chunks: Iterable[bytes]) -> int:
        """Copy the stream into part buffers (one copy per byte; a full buffer goes out as a part
        while the next fills); a stream shorter than one part is a plain PUT."""
        buffer = upload.buffer(self._size_of_part(0))
        filled = total = 0
        for chunk in chunks:
            view, offset, size = memoryview(chunk), 0, len(chunk)
            total += size
            while offset < size:
                taken = min(len(buffer) - filled, size - offset)
                buffer[filled : filled + taken] = view[offset : offset + taken]
                filled += taken
                offset += taken
                if filled == len(buffer):
                    upload.send(buffer, filled)
                    buffer, filled = upload.buffer(self._size_of_part(upload.part_count)), 0
        if not upload.started:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=bytes(memoryview(buffer)[:filled]))
        elif filled:
            upload.send(buffer, filled)
            upload.complete()
        else:
            upload.give_back(buffer)
            upload.complete()
        return total

    # -- download, list, delete

    def _is_dir(self, path: ArtifactPath) -> bool:
        response = self._client.list_objects_v2(Bucket=self._bucket, Prefix=self._dir_prefix(path), MaxKeys=1)
        return bool(response.get("KeyCount") or response.get("Contents") or response.get("CommonPrefixes"))

    def open_read(self, path: ArtifactPath) -> ReadHandle:
        if path.is_root:
            raise is_a_directory(self.shown(path))
        key = self._key(path)
        ranged = self._transfers is not None and self._settings.ranges_ahead > 0
        with s3_errors():
            try:
                if ranged:
                    response = self._get_first_range(key)
                else:
                    response = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as error:
                if error_code(error) not in MISSING_CODES:
                    raise
                if self._is_dir(path):
                    raise is_a_directory(self.shown(path)) from error
                raise no_such_artifact(self.shown(path)) from error
        served = content_range(response)
        if self._transfers is not None and served is not None and served[0] + 1 < served[1]:
            return RangedReadHandle(
                self._client, self._bucket, key, response, transfers=self._transfers, settings=self._settings
            )
        size = served[1] if served is not None else int(response.get("ContentLength", 0))
        return WholeReadHandle(response["Body"], size)

    def _get_first_range(self, key: str) -> dict[str, Any]:
        """The first range of ``key``; its Content-Range tells the size (one request, not a HEAD
        and then a GET). An empty object has no range to serve: then a plain GET."""
        try:
            response: dict[str, Any] = self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{self._settings.range_size - 1}"
            )
        except ClientError as error:
            if error_code(error) != "InvalidRange":
                raise
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        return response

    def list_dir(self, path: ArtifactPath) -> list[Entry]:
        prefix = self._dir_prefix(path)
        entries: dict[str, Entry] = {}
        with s3_errors():
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
        with s3_errors():
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
        with s3_errors():
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
        with s3_errors():
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
        with s3_errors():
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key(path), UploadId=upload_id
                )
            except ClientError as error:
                self._raise_multipart_client_error(error, upload_id)

    @staticmethod
    def _raise_multipart_client_error(error: ClientError, upload_id: str) -> None:
        code = error_code(error)
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
        with s3_errors():
            try:
                head = self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as error:
                if error_code(error) not in MISSING_CODES:
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
        with s3_errors():
            url = self._client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self._bucket, "Key": self._key(path), "ContentType": content_type},
                ExpiresIn=expires_in,
            )
        return PresignedUpload(url, {"Content-Type": content_type})
