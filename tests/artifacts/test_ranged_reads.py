"""Downloads read ahead in parallel ranged GETs and streamed uploads fill a fixed set of part
buffers: bytes come out in order and whole, and a store that fails mid-transfer (a connection cut
inside a range's body, the store gone) ends the transfer with a clean TEMPORARILY_UNAVAILABLE,
never a hang, a reordered stream or silently missing bytes.

Faults are real network faults: a TCP relay between the S3 client and SeaweedFS that cuts each
connection after a byte budget (a short read inside some range's body) or drops everything.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from runstash_artifacts.paths import ArtifactPath
from runstash_artifacts.storage.s3 import S3Storage, make_s3_client
from runstash_artifacts.storage.s3_streams import PartUploader, RangedReadHandle
from runstash_artifacts.transfers import TransferPool
from runstash_protos.errors import ErrorCode, RunstashError

from .conftest import SMALL_TRANSFERS, s3_env

MIB = 1024 * 1024
pytestmark = pytest.mark.s3


def P(raw: str) -> ArtifactPath:
    return ArtifactPath(tuple(raw.split("/")))


def numbered(size: int, block: int = 4096) -> bytes:
    """Bytes whose every block carries its own index: a reordered or repeated block shows."""
    blocks = (index.to_bytes(8, "big") * (block // 8) for index in range(size // block + 1))
    return b"".join(blocks)[:size]


class FaultyRelay:
    """A TCP relay to ``upstream``; each connection forwards at most ``budget`` bytes downstream
    (then both sides are closed), and :meth:`drop` closes everything, listener included."""

    def __init__(self, upstream: str, budget: int | None = None) -> None:
        parsed = urlparse(upstream)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.budget = budget
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.budget), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, budget: int | None) -> None:
        left = budget
        try:
            while left is None or left > 0:
                data = source.recv(64 * 1024 if left is None else min(64 * 1024, left))
                if not data:
                    break
                sink.sendall(data)
                if left is not None:
                    left -= len(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def drop(self) -> None:
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@pytest.fixture
def relayed(
    s3_endpoint: Any, s3_prefix: str, monkeypatch: pytest.MonkeyPatch, transfer_pool: TransferPool
) -> Iterator[tuple[S3Storage, S3Storage, FaultyRelay]]:
    """(direct storage, the same prefix through a faulty relay, the relay)."""
    s3_env(monkeypatch, s3_endpoint)
    direct = S3Storage(
        make_s3_client(), s3_endpoint.bucket, s3_prefix, transfers=transfer_pool, settings=SMALL_TRANSFERS
    )
    relay = FaultyRelay(s3_endpoint.url)
    through = S3Storage(
        make_s3_client(relay.url),
        s3_endpoint.bucket,
        s3_prefix,
        transfers=transfer_pool,
        settings=SMALL_TRANSFERS,
    )
    yield direct, through, relay
    relay.drop()


def test_read_ahead_yields_every_byte_in_order_with_uneven_chunks(s3_storage: S3Storage) -> None:
    data = numbered(9 * MIB + 12345)
    s3_storage.write(P("f.bin"), [data])
    with s3_storage.open_read(P("f.bin")) as handle:
        assert isinstance(handle, RangedReadHandle)
        # A chunk size that divides neither the range nor the file: pieces never straddle ranges.
        chunks = list(handle.iter_chunks(300_000))
    assert all(0 < len(chunk) <= 300_000 for chunk in chunks)
    assert b"".join(chunks) == data


def test_connection_cut_inside_a_range_fails_cleanly_after_an_exact_prefix(
    relayed: tuple[S3Storage, S3Storage, FaultyRelay],
) -> None:
    direct, through, relay = relayed
    data = numbered(9 * MIB)
    direct.write(P("f.bin"), [data])
    # 1.5 ranges per connection: every connection's second range is cut off inside its body.
    relay.budget = SMALL_TRANSFERS.range_size * 3 // 2
    received = bytearray()
    with pytest.raises(RunstashError) as failure, through.open_read(P("f.bin")) as handle:
        for chunk in handle.iter_chunks(256 * 1024):
            received += chunk
    assert failure.value.code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert 0 < len(received) < len(data)
    assert bytes(received) == data[: len(received)]


def test_store_gone_mid_download_fails_cleanly(relayed: tuple[S3Storage, S3Storage, FaultyRelay]) -> None:
    direct, through, relay = relayed
    data = numbered(9 * MIB)
    direct.write(P("f.bin"), [data])
    received = bytearray()
    with pytest.raises(RunstashError) as failure, through.open_read(P("f.bin")) as handle:
        for chunk in handle.iter_chunks(256 * 1024):
            if not received:
                relay.drop()  # at most the first ranges are in memory; the rest must fail
            received += chunk
    assert failure.value.code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert bytes(received) == data[: len(received)] and len(received) < len(data)


def test_store_gone_mid_upload_fails_cleanly_and_leaves_nothing(
    relayed: tuple[S3Storage, S3Storage, FaultyRelay],
) -> None:
    direct, through, relay = relayed

    def chunks() -> Iterator[bytes]:
        for index in range(12):
            if index == 7:  # a part or more is on the wire by now
                relay.drop()
            yield numbered(MIB)

    with pytest.raises(RunstashError) as failure:
        through.write(P("up.bin"), chunks())
    assert failure.value.code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert [entry.name for entry in direct.list_dir(ArtifactPath(()))] == []


def test_uploads_reuse_a_fixed_set_of_part_buffers(
    s3_storage: S3Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[int, int, int]] = []  # (part number, size, id of the buffer sent)
    upload_part = PartUploader._upload_part

    def recording(self: PartUploader, upload_id: str, number: int, data: bytes | bytearray) -> dict[str, Any]:
        sent.append((number, len(data), id(data)))
        return upload_part(self, upload_id, number, data)

    monkeypatch.setattr(PartUploader, "_upload_part", recording)
    part = SMALL_TRANSFERS.part_size
    data = numbered(part * 9 + 777)
    # Uneven chunks: parts are cut to exactly the part size whatever the chunking.
    pieces = [data[offset : offset + 999_983] for offset in range(0, len(data), 999_983)]
    assert s3_storage.write(P("many.bin"), pieces) == len(data)
    assert sorted(size for _, size, _ in sent) == [777] + [part] * 9
    full_part_buffers = {buffer for _, size, buffer in sent if size == part}
    assert len(full_part_buffers) <= SMALL_TRANSFERS.parts_in_flight + 1
    with s3_storage.open_read(P("many.bin")) as handle:
        assert hashlib.sha256(b"".join(handle.iter_chunks())).digest() == hashlib.sha256(data).digest()


def test_part_uploader_without_threads_sends_in_line(s3_storage: S3Storage) -> None:
    uploader = PartUploader(s3_storage.client, s3_storage.bucket, f"{s3_storage.prefix}/inline.bin", None, 4)
    first = uploader.buffer(SMALL_TRANSFERS.part_size)
    first[:] = b"a" * len(first)
    uploader.send(first, len(first))
    second = uploader.buffer(SMALL_TRANSFERS.part_size)
    assert second is first  # sent synchronously, so its buffer is free again
    second[:3] = b"end"
    uploader.send(second, 3)
    uploader.complete()
    body = s3_storage.client.get_object(Bucket=s3_storage.bucket, Key=f"{s3_storage.prefix}/inline.bin")[
        "Body"
    ]
    assert body.read() == b"a" * SMALL_TRANSFERS.part_size + b"end"
