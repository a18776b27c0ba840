"""Large files stream with bounded memory: 300 MiB through a real artifact server process (its peak
RSS is read from /proc) and through the servicer on S3 (Python allocations traced)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from runstash_artifacts.servicer import build_servicer
from runstash_protos import artifacts_pb2 as pb
from runstash_protos.artifacts_pb2_grpc import ArtifactServiceStub

from .conftest import s3_env

MIB = 1024 * 1024
SIZE = 300 * MIB

pytestmark = pytest.mark.slow


def pattern_chunks(total: int, chunk: int = MIB) -> Iterator[bytes]:
    """Distinct, reproducible chunks (so a reordered or dropped chunk changes the digest)."""
    for index in range(total // chunk):
        yield index.to_bytes(8, "big") * (chunk // 8)


def expected_digest(total: int) -> bytes:
    digest = hashlib.sha256()
    for chunk in pattern_chunks(total):
        digest.update(chunk)
    return digest.digest()


def upload_messages(path: str, total: int) -> Iterator[pb.UploadArtifact]:
    first = True
    for chunk in pattern_chunks(total):
        yield pb.UploadArtifact(path=path, data=chunk) if first else pb.UploadArtifact(data=chunk)
        first = False


def download_digest(responses: Iterator[pb.DownloadArtifact.Response]) -> tuple[bytes, int]:
    digest = hashlib.sha256()
    size = 0
    for message in responses:
        digest.update(message.data)
        size += len(message.data)
    return digest.digest(), size


def proc_status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


SERVER_SCRIPT = """
import sys
from runstash_artifacts.server import start
running = start(sys.argv[1], "127.0.0.1:0")
print(running.port, flush=True)
running.server.wait_for_termination()
"""


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, str(tmp_path / "artifacts")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = f"127.0.0.1:{proc.stdout.readline().strip()}"
        deadline = time.monotonic() + 30
        while not serving(address):
            assert proc.poll() is None, "artifact server exited"
            assert time.monotonic() < deadline, "artifact server not serving after 30 s"
            time.sleep(0.1)
        yield proc, address
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_300_mib_through_a_server_process_keeps_rss_flat(
    server_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    proc, address = server_process
    with grpc.insecure_channel(address) as channel:
        stub = ArtifactServiceStub(channel)
        # Warm up (imports, thread pool, first buffers) before taking the baseline.
        stub.UploadArtifact(upload_messages("warm/up.bin", 4 * MIB), timeout=60)
        download_digest(stub.DownloadArtifact(pb.DownloadArtifact(path="warm/up.bin"), timeout=60))
        baseline_kib = proc_status_kib(proc.pid, "VmRSS")

        stub.UploadArtifact(upload_messages("1/run/artifacts/big.bin", SIZE), timeout=300)
        digest, size = download_digest(
            stub.DownloadArtifact(pb.DownloadArtifact(path="1/run/artifacts/big.bin"), timeout=300)
        )
    assert (size, digest) == (SIZE, expected_digest(SIZE))
    assert (tmp_path / "artifacts/1/run/artifacts/big.bin").stat().st_size == SIZE
    peak_growth_mib = (proc_status_kib(proc.pid, "VmHWM") - baseline_kib) / 1024
    assert peak_growth_mib < 100, f"server peak RSS grew by {peak_growth_mib:.0f} MiB"


def test_300_mib_through_the_servicer_on_s3_keeps_allocations_small(
    s3_endpoint: Any, s3_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_env(monkeypatch, s3_endpoint)
    servicer = build_servicer(s3_endpoint.destination(s3_prefix))
    tracemalloc.start()
    try:
        servicer.UploadArtifact(upload_messages("big.bin", SIZE), context=None)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest, size = download_digest(
            servicer.DownloadArtifact(pb.DownloadArtifact(path="big.bin"), context=None)
        )
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (size, digest) == (SIZE, expected_digest(SIZE))
    head = s3_endpoint.client().head_object(Bucket=s3_endpoint.bucket, Key=f"{s3_prefix}/big.bin")
    assert head["ContentLength"] == SIZE
    assert upload_peak < 64 * MIB, f"upload peaked at {upload_peak / MIB:.0f} MiB"
    assert download_peak < 32 * MIB, f"download peaked at {download_peak / MIB:.0f} MiB"
