"""Streaming one object to or from S3 with several requests in flight and bounded memory.

Up: :class:`PartUploader` sends a multipart upload's parts on the service's transfer threads,
at most ``parts_in_flight`` at once, while the caller fills the next part into one of
``parts_in_flight + 1`` buffers allocated once (:class:`PartBuffers`). Down:
:class:`RangedReadHandle` reads consecutive ranged GETs, ``ranges_ahead`` of them fetched in
parallel ahead of the reader and handed on in order (memory: about ``ranges_ahead + 1`` ranges).
One connection at a time reached only ~45-80% of boto3's own multi-threaded transfer speed.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from runstash_artifacts.settings import TransferSettings
from runstash_artifacts.storage.base import DEFAULT_CHUNK_SIZE, ReadHandle, storage_unavailable
from runstash_artifacts.storage.s3_errors import s3_errors
from runstash_artifacts.transfers import TransferPool

log = logging.getLogger("runstash.artifacts.s3")

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class PartBuffers:
    """The part buffers of one upload: at most ``count``, each allocated once and refilled.

    Parts are cut to exactly the buffer's size, so a part never grows past it and the upload's
    memory is ``count`` buffers whatever the file size (no fresh multi-MiB allocation, and its
    page faults, per part).
    """

    def __init__(self, count: int) -> None:
        self.count = max(1, count)
        self._free: list[bytearray] = []
        self._made = 0

    @property
    def exhausted(self) -> bool:
        """Every buffer is out: the next part must wait for one to come back."""
        return not self._free and self._made >= self.count

    def take(self, size: int) -> bytearray:
        while self._free:
            buffer = self._free.pop()
            if len(buffer) == size:
                return buffer
            self._made -= 1  # the part size grew: a smaller buffer is dropped, not reused
        assert self._made < self.count, "a part buffer was taken while all were out"
        self._made += 1
        return bytearray(size)

    def give_back(self, buffer: bytearray) -> None:
        self._free.append(buffer)


class PartUploader:
    """One multipart upload fed part by part; parts go out while the next one fills.

    The caller fills :meth:`buffer` and hands it to :meth:`send`; at most ``in_flight`` parts are
    on the wire and one more is filling, so memory is ``in_flight + 1`` part buffers.
    """

    def __init__(
        self, client: Any, bucket: str, key: str, transfers: TransferPool | None, in_flight: int
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._transfers = transfers
        in_flight = max(1, in_flight) if transfers is not None else 0
        self._buffers = PartBuffers(in_flight + 1)
        self._upload_id: str | None = None
        self._in_flight: dict[Future[dict[str, Any]], bytearray] = {}
        self._done: list[dict[str, Any]] = []
        self._sent = 0

    @property
    def started(self) -> bool:
        return self._upload_id is not None

    @property
    def part_count(self) -> int:
        return self._sent

    def buffer(self, size: int) -> bytearray:
        """An empty part buffer of ``size`` bytes; waits for a part on the wire if all are out."""
        while self._buffers.exhausted:
            self._reclaim(wait(self._in_flight, return_when=FIRST_COMPLETED).done)
        return self._buffers.take(size)

    def _reclaim(self, finished: Iterable[Future[dict[str, Any]]]) -> None:
        for future in finished:
            buffer = self._in_flight.pop(future)
            self._done.append(future.result())  # a failed part fails the upload here
            self._buffers.give_back(buffer)

    def _upload_part(self, upload_id: str, number: int, data: bytes | bytearray) -> dict[str, Any]:
        response = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def send(self, buffer: bytearray, length: int) -> None:
        """Send the first ``length`` bytes of ``buffer`` (from :meth:`buffer`) as the next part."""
        if self._upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        self._sent += 1
        # botocore takes bytes or bytearray, not a memoryview: only a short last part is copied.
        body = buffer if length == len(buffer) else bytes(memoryview(buffer)[:length])
        if self._transfers is None:
            self._done.append(self._upload_part(self._upload_id, self._sent, body))
            self._buffers.give_back(buffer)
            return
        future = self._transfers.submit(self._upload_part, self._upload_id, self._sent, body)
        self._in_flight[future] = buffer

    def give_back(self, buffer: bytearray) -> None:
        """A buffer from :meth:`buffer` that was not sent (the upload ended or failed)."""
        self._buffers.give_back(buffer)

    def complete(self) -> None:
        while self._in_flight:
            self._reclaim(wait(self._in_flight, return_when=FIRST_COMPLETED).done)
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": sorted(self._done, key=lambda part: int(part["PartNumber"]))},
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


class WholeReadHandle(ReadHandle):
    """One GET streamed as it arrives."""

    def __init__(self, body: Any, size: int) -> None:
        self._body = body
        self.size = size

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        with s3_errors():
            yield from self._body.iter_chunks(chunk_size)

    def close(self) -> None:
        self._body.close()


def content_range(response: dict[str, Any]) -> tuple[int, int] | None:
    """(end of the range served, total size) of a ranged GET's answer, if it was ranged."""
    match = _CONTENT_RANGE.fullmatch(str(response.get("ContentRange", "")))
    if match is None:
        return None
    return int(match.group(2)), int(match.group(3))


class RangedReadHandle(ReadHandle):
    """The first range streamed as it arrives, the rest fetched ahead in parallel ranged GETs.

    Later ranges carry ``If-Match`` with the first answer's ETag: if the object is replaced
    mid-download, the download fails instead of mixing two versions.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        first: dict[str, Any],
        *,
        transfers: TransferPool,
        settings: TransferSettings,
    ) -> None:
        served = content_range(first)
        assert served is not None, "a ranged read starts from a ranged answer"
        self._client = client
        self._bucket = bucket
        self._key = key
        self._first_body = first["Body"]
        self._etag = first.get("ETag")
        self._transfers = transfers
        self._range_size = settings.range_size
        self._ahead = max(1, settings.ranges_ahead)
        self._next = served[0] + 1
        self.size = served[1]
        self._pending: deque[Future[list[bytes]]] = deque()

    def _fetch(self, start: int, end: int, chunk_size: int) -> list[bytes]:
        """One range, read off the socket in ``chunk_size`` pieces: the reader hands them on as
        they are (one copy per byte, no re-slicing of a whole range)."""
        extra = {"IfMatch": self._etag} if self._etag else {}
        response = self._client.get_object(
            Bucket=self._bucket, Key=self._key, Range=f"bytes={start}-{end}", **extra
        )
        expected = end - start + 1
        pieces: list[bytes] = []
        got = 0
        with contextlib.closing(response["Body"]) as body:
            while got < expected:
                piece: bytes = body.read(min(chunk_size, expected - got))
                if not piece:
                    break
                pieces.append(piece)
                got += len(piece)
        if got != expected:
            raise storage_unavailable(f"short read of {self._key} at {start}: {got} of {expected} bytes")
        return pieces

    def _schedule(self, chunk_size: int) -> None:
        while len(self._pending) < self._ahead and self._next < self.size:
            end = min(self._next + self._range_size, self.size) - 1
            self._pending.append(self._transfers.submit(self._fetch, self._next, end, chunk_size))
            self._next = end + 1

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        with s3_errors():
            self._schedule(chunk_size)  # the next ranges travel while the first one streams
            yield from self._first_body.iter_chunks(chunk_size)
            while self._pending:
                pieces = self._pending.popleft().result()
                self._schedule(chunk_size)
                while pieces:
                    yield pieces.pop(0)  # each piece is freed once handed on

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._first_body.close()
