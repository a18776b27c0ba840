"""Idle artifact uploads (headers sent, body never) must not freeze the server.

An upload waits for its first bytes on the event loop, holding no service thread; byte streams run
on their own threads, apart from the metadata calls; every wait for the next piece of a body is
bounded in time (408 after it)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import time
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from runstash_artifacts.servicer import SERVICE_NAME as ARTIFACT_SERVICE
from runstash_artifacts.servicer import build_servicer
from runstash_artifacts.settings import ArtifactSettings
from runstash_gateway import GatewayBackends, GatewayConfig, InProcessBackend, create_gateway

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import DatabaseFactory, ServerLauncher

IDLE_UPLOADS = 200


@contextlib.contextmanager
def idle_uploads(base_url: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that each send an upload's headers, promise 1 MB, and go quiet."""
    parsed = urllib.parse.urlsplit(base_url)
    sockets: list[socket.socket] = []
    try:
        for i in range(count):
            sock = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 80), timeout=10)
            sock.sendall(
                f"PUT /api/2.0/mlflow-artifacts/artifacts/0/idle/{i}.bin HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{parsed.port}\r\nContent-Length: 1000000\r\n"
                "Content-Type: application/octet-stream\r\n\r\n".encode()
            )
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def _latencies(base_url: str, rounds: int) -> list[float]:
    timings = []
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for _ in range(rounds):
            started = time.perf_counter()
            answer = http.post(
                "/api/2.0/mlflow/experiments/search",
                json={"max_results": 10},
                headers={"Content-Type": "application/json"},
            )
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            assert "experiments" in answer.json()
    return timings


@pytest.mark.parametrize("mode", ["single", "split"])
def test_idle_uploads_leave_the_metadata_routes_answering(
    mode: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp(f"idle-{mode}")
    uri = database_factory.create("sqlite").uri
    if mode == "single":
        server = server_launcher.single(uri, str(root), label="idle-uploads")
    else:
        server = server_launcher.split(uri, str(root), label="idle-uploads-split")
    try:
        _latencies(server.url, 3)  # warm: the first request opens the database
        with idle_uploads(server.url, IDLE_UPLOADS):
            timings = _latencies(server.url, 20)
            assert server.alive()
        median_ms = statistics.median(timings) * 1000
        assert median_ms < 100, f"metadata p50 {median_ms:.1f} ms with {IDLE_UPLOADS} idle uploads"
        assert max(timings) < 1.0, f"slowest metadata call {max(timings):.2f} s"
    finally:
        server_launcher.stop(server)


def test_an_upload_whose_body_stops_gets_408(tmp_path: Path) -> None:
    servicer = build_servicer(str(tmp_path), settings=ArtifactSettings())
    backends = GatewayBackends.of(InProcessBackend({ARTIFACT_SERVICE: servicer}))
    sent: list[dict[str, Any]] = []

    async def main() -> float:
        app = await create_gateway(backends, GatewayConfig(body_timeout_s=0.2))
        messages = [{"type": "http.request", "body": b"x" * 10, "more_body": True}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)  # the client went quiet
            raise AssertionError("unreachable")

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "PUT",
            "path": "/api/2.0/mlflow-artifacts/artifacts/0/slow.bin",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"1000")],
        }
        started = time.perf_counter()
        try:
            await app(scope, receive, send)
        finally:
            await app.close()
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    assert elapsed < 2.0
    assert sent[0]["status"] == 408
    assert b"Request Timeout" in sent[1]["body"]
    assert not list(tmp_path.rglob("slow.bin"))  # nothing half-written under the real name
