"""The gateway under a real uvicorn server: the real metadata servicer on SQLite, the real artifact
servicer on a folder, streamed transfers over real sockets, artifact replicas round-robin, and
``run()`` with several worker processes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from runstash_artifacts.servicer import SERVICE_NAME as ARTIFACT_SERVICE
from runstash_artifacts.servicer import ArtifactServicer
from runstash_artifacts.settings import ArtifactSettings
from runstash_gateway import GatewayBackends, GatewayConfig, RemoteBackend, uvicorn_config
from runstash_metadata.server import build_server
from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.settings import MetadataSettings

from tests.gateway.conftest import METADATA_SERVICE, start_grpc_server


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(base: str, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1.0).text == "OK":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{base} never became healthy")


class _Served:
    def __init__(self, config: GatewayConfig, backends: GatewayBackends) -> None:
        self.server = uvicorn.Server(uvicorn_config(config, backends))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base = f"http://127.0.0.1:{config.port}"

    def __enter__(self) -> str:
        self.thread.start()
        _wait_healthy(self.base)
        return self.base

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataServicer]:
    settings = MetadataSettings(f"sqlite:///{tmp_path / 'mlflow.db'}", "mlflow-artifacts:/")
    store = MetadataServicer.open(settings)
    yield store
    store.close()


def _artifacts(root: Path) -> ArtifactServicer:
    from runstash_artifacts.servicer import build_servicer

    return build_servicer(str(root), settings=ArtifactSettings(download_chunk_size=256 * 1024))


def _payload(size: int) -> bytes:
    block = hashlib.sha256(b"runstash").digest() * 4096  # 128 KiB of non-repeating-ish bytes
    return (block * (size // len(block) + 1))[:size]


def test_real_services_in_process_over_uvicorn(store: MetadataServicer, tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    root.mkdir()
    backends = GatewayBackends.in_process({METADATA_SERVICE: store, ARTIFACT_SERVICE: _artifacts(root)})
    config = GatewayConfig(port=_free_port(), log_level="warning")
    with _Served(config, backends) as base, httpx.Client(base_url=base, timeout=30) as client:
        experiment_id = client.post("/api/2.0/mlflow/experiments/create", json={"name": "gw"}).json()[
            "experiment_id"
        ]
        run = client.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id, "start_time": 1}
        ).json()["run"]
        run_id = run["info"]["run_id"]
        assert run["info"]["run_uuid"] == run_id and run["info"]["status"] == "RUNNING"
        metrics = [{"key": "loss", "value": 1.0 / (i + 1), "timestamp": i, "step": i} for i in range(1000)]
        logged = client.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics})
        assert (logged.status_code, logged.json()) == (200, {})
        history = client.get(
            "/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}
        ).json()["metrics"]
        assert len(history) == 1000 and history[0]["step"] == 0 and history[999]["value"] == 1.0 / 1000
        missing = client.get("/api/2.0/mlflow/runs/get", params={"run_id": "0" * 32})
        assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        searched = client.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment_id]})
        assert [r["info"]["run_id"] for r in searched.json()["runs"]] == [run_id]

        # 6 MiB up as a chunked stream (no Content-Length) and back down, byte for byte
        payload = _payload(6 * 1024 * 1024)
        url = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/big.bin"

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(payload), 100_000):
                yield payload[start : start + 100_000]

        put = client.put(url, content=pieces())
        assert (put.status_code, put.content) == (200, b"")
        digest = hashlib.sha256()
        with client.stream("GET", url) as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                digest.update(chunk)
        assert digest.digest() == hashlib.sha256(payload).digest()
        stored = root / experiment_id / run_id / "artifacts" / "big.bin"
        assert stored.stat().st_size == len(payload)


class _CountingArtifacts(ArtifactServicer):
    """The real artifact servicer, counting the listings this replica served."""

    served = 0

    def ListArtifacts(self, request: Any, context: Any) -> Any:
        self.served += 1
        return super().ListArtifacts(request, context)


def test_remote_replicas_round_robin_and_reflection_over_the_wire(tmp_path: Path) -> None:
    from runstash_artifacts.roots import ArtifactRoots, open_destination

    root = tmp_path / "shared"
    root.mkdir()
    (root / "a.txt").write_text("x")
    replicas = [
        _CountingArtifacts(ArtifactRoots(open_destination(str(root))), None, ArtifactSettings())
        for _ in range(2)
    ]
    started = [start_grpc_server({ARTIFACT_SERVICE: servicer}) for servicer in replicas]
    try:
        backends = GatewayBackends.of(RemoteBackend([target for _, target in started]))
        config = GatewayConfig(port=_free_port(), log_level="warning")
        with _Served(config, backends) as base, httpx.Client(base_url=base) as client:
            for _ in range(6):
                listing = client.get("/api/2.0/mlflow-artifacts/artifacts")
                assert listing.json() == {"files": [{"path": "a.txt", "is_dir": False, "file_size": 1}]}
            assert [r.served for r in replicas] == [3, 3]
            # one replica dies: after its channel notices, round-robin steps over it
            started[0][0].stop(None)
            statuses = [client.get("/api/2.0/mlflow-artifacts/artifacts").status_code for _ in range(20)]
            assert statuses.count(503) <= 3, statuses  # blind round-robin would fail every other call
            assert statuses[-5:] == [200] * 5
    finally:
        for server, _ in started:
            server.stop(None)


def test_run_with_several_workers(store: MetadataServicer) -> None:
    server, port = build_server(store, "127.0.0.1:0")
    server.start()
    http_port = _free_port()
    code = (
        "from runstash_gateway import GatewayConfig, run\n"
        f"run(GatewayConfig(port={http_port}, workers=2, log_level='warning',"
        f" remote_targets=(('127.0.0.1:{port}',),)))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env={**os.environ}, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{http_port}"
        _wait_healthy(base, 60)
        with httpx.Client(base_url=base) as client:
            for index in range(6):
                created = client.post("/api/2.0/mlflow/experiments/create", json={"name": f"w{index}"})
                assert created.status_code == 200, created.text
            names = {
                e["name"]
                for e in client.post("/api/2.0/mlflow/experiments/search", json={"max_results": 100}).json()[
                    "experiments"
                ]
            }
            assert {f"w{i}" for i in range(6)} <= names
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server.stop(None)


def test_remote_start_waits_for_late_services_then_gives_up(tmp_path: Path) -> None:
    import asyncio

    from runstash_artifacts.server import start
    from runstash_gateway import create_gateway
    from runstash_protos.errors import ErrorCode, RunstashError

    port = _free_port()
    late: list[Any] = []
    timer = threading.Timer(0.5, lambda: late.append(start(str(tmp_path), f"127.0.0.1:{port}")))

    async def build(wait_s: float) -> int:
        app = await create_gateway(
            GatewayBackends.remote([f"127.0.0.1:{port}"]), GatewayConfig(startup_timeout_s=wait_s)
        )
        await app.close()
        assert app.router is not None
        return sum(1 for _ in app.router.routes())

    timer.start()
    try:
        assert asyncio.run(build(30)) > 10  # the artifact routes, once the service came up
    finally:
        timer.join()
        for running in late:
            running.stop(None)
    with pytest.raises(RunstashError) as info:
        asyncio.run(build(0.3))
    assert info.value.code == ErrorCode.TEMPORARILY_UNAVAILABLE
