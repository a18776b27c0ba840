"""S3 out of reach -> TEMPORARILY_UNAVAILABLE (503), never a hang or a half-written object."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from runstash_artifacts.paths import parse_artifact_path
from runstash_artifacts.server import RunningServer
from runstash_artifacts.storage.s3 import S3Storage, make_s3_client
from runstash_protos import artifacts_pb2 as pb
from runstash_protos.artifacts_pb2_grpc import ArtifactServiceStub
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error

from .conftest import SMALL_PART, ServerFactory, s3_env

pytestmark = pytest.mark.s3

P = parse_artifact_path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch, s3_endpoint: Any) -> str:
    """Credentials of the real endpoint, but nothing listens at the configured address."""
    s3_env(monkeypatch, s3_endpoint)
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", url)
    return url


def test_every_operation_reports_temporarily_unavailable(unreachable: str) -> None:
    storage = S3Storage(make_s3_client(), "bucket", "prefix")
    operations: dict[str, Callable[[], Any]] = {
        "write": lambda: storage.write(P("a/b.txt"), [b"data"]),
        "read": lambda: storage.open_read(P("a/b.txt")),
        "list": lambda: storage.list_dir(P("a")),
        "delete": lambda: storage.delete(P("a")),
        "mpu": lambda: storage.create_multipart_upload(P("a/b.txt"), 2),
        "presigned": lambda: storage.presigned_download(P("a/b.txt"), 60),
    }
    for name, operation in operations.items():
        start = time.monotonic()
        with pytest.raises(RunstashError) as caught:
            operation()
        assert caught.value.code is ErrorCode.TEMPORARILY_UNAVAILABLE, name
        assert time.monotonic() - start < 30, f"{name} took too long to give up"


def test_grpc_status_is_unavailable_with_the_mlflow_code(
    unreachable: str,
    artifact_server: ServerFactory,
    stub_for: Callable[[RunningServer], ArtifactServiceStub],
) -> None:
    stub = stub_for(artifact_server("s3://bucket/prefix"))
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListArtifacts(pb.ListArtifacts(path="x"))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    error = from_rpc_error(caught.value)
    assert error.code is ErrorCode.TEMPORARILY_UNAVAILABLE
    assert error.http_status == 503


class TcpProxy:
    """A loopback TCP relay to the S3 server that can be cut (the store 'goes away')."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._upstream))
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def test_store_dying_mid_upload_leaves_nothing_visible(
    s3_endpoint: Any, s3_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_env(monkeypatch, s3_endpoint)
    proxy = TcpProxy(int(s3_endpoint.url.rsplit(":", 1)[1]))
    storage = S3Storage(
        make_s3_client(f"http://127.0.0.1:{proxy.port}"), s3_endpoint.bucket, s3_prefix, part_size=SMALL_PART
    )
    storage.write(P("run/old.bin"), [b"previous"])

    def stream() -> Iterator[bytes]:
        for i in range(6):
            if i == 3:  # two parts are in the store by now
                proxy.cut()
            yield b"\x5a" * (SMALL_PART // 2 + 1)

    try:
        with pytest.raises(RunstashError) as caught:
            storage.write(P("run/new.bin"), stream())
        assert caught.value.code is ErrorCode.TEMPORARILY_UNAVAILABLE
    finally:
        proxy.cut()
    direct = s3_endpoint.client()
    keys = [
        o["Key"]
        for o in direct.list_objects_v2(Bucket=s3_endpoint.bucket, Prefix=s3_prefix).get("Contents", [])
    ]
    assert keys == [f"{s3_prefix}/run/old.bin"]
