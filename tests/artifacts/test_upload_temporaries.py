"""Upload temporaries (``.runstash-upload-<hex>``): never reachable through the API, removed when
an upload fails, and swept at start-up when a killed process left them behind."""

from __future__ import annotations

import os
import socket
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from runstash_artifacts.paths import RESERVED_PREFIX, parse_artifact_path
from runstash_artifacts.storage.local import LocalStorage
from runstash_protos import artifacts_pb2 as pb
from runstash_protos.artifacts_pb2_grpc import ArtifactServiceStub
from runstash_protos.errors import ErrorCode, RunstashError

from tests.support.databases import DatabaseFactory
from tests.support.health import wait_until
from tests.support.servers import RunningServer, ServerLauncher

from .conftest import Catalog, ServerFactory
from .test_service import download, error_of, upload

TEMP_NAME = f"{RESERVED_PREFIX}0123456789abcdef"
HALF_WRITTEN = b"half of somebody's upload"
HOUR = 3600


def temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.lower().startswith(RESERVED_PREFIX)]


def plant(path: Path, *, age_s: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(HALF_WRITTEN)
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


@pytest.mark.parametrize(
    "raw",
    [
        TEMP_NAME,
        f"dir/{TEMP_NAME}",
        f"{TEMP_NAME}/below",
        TEMP_NAME.upper(),
        f"./{RESERVED_PREFIX}x",
    ],
)
def test_reserved_names_are_invalid_paths(raw: str) -> None:
    with pytest.raises(RunstashError) as caught:
        parse_artifact_path(raw)
    assert caught.value.code == ErrorCode.INVALID_PARAMETER_VALUE


def test_names_that_only_look_alike_stay_usable() -> None:
    for raw in (".runstash-upload", "runstash-upload-x", "x.runstash-upload-y", ".runstash-uploads"):
        assert parse_artifact_path(raw).name == raw


def test_every_route_refuses_a_temporary_and_leaves_it_alone(
    artifact_server: ServerFactory,
    stub_for: Callable[[Any], ArtifactServiceStub],
    catalog: Catalog,
    artifact_dir: Path,
) -> None:
    run_root = artifact_dir / "1" / "run1" / "artifacts"
    planted = [plant(artifact_dir / TEMP_NAME), plant(run_root / TEMP_NAME)]
    (run_root / "visible.txt").write_text("ok")
    stub = stub_for(artifact_server(str(artifact_dir), catalog))

    calls: dict[str, Callable[[], Any]] = {
        "download": lambda: stub.DownloadArtifact(pb.DownloadArtifact(path=TEMP_NAME)),
        "upload": lambda: upload(stub, TEMP_NAME, b"overwritten"),
        "delete": lambda: stub.DeleteArtifact(pb.DeleteArtifact(path=TEMP_NAME)),
        "list": lambda: stub.ListArtifacts(pb.ListArtifacts(path=TEMP_NAME)),
        "run download": lambda: stub.GetRunArtifact(pb.GetRunArtifact(run_id="run1", path=TEMP_NAME)),
        "run list": lambda: stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="run1", path=TEMP_NAME)),
        "run upload": lambda: stub.UploadRunArtifact(
            iter([pb.UploadRunArtifact(run_uuid="run1", path=TEMP_NAME, data=b"overwritten")])
        ),
    }
    for name, call in calls.items():
        error = error_of(call)
        assert error.code == ErrorCode.INVALID_PARAMETER_VALUE, name
    for path in planted:
        assert path.read_bytes() == HALF_WRITTEN, "a refused request changed the temporary"

    listing = stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="run1"))
    assert [f.path for f in listing.files] == ["visible.txt"]
    assert [f.path for f in stub.ListArtifacts(pb.ListArtifacts(path="")).files] == ["1"]


def test_stale_temporaries_are_swept_and_fresh_ones_kept(tmp_path: Path) -> None:
    stale = [
        plant(tmp_path / TEMP_NAME, age_s=2 * HOUR),
        plant(tmp_path / "a" / "b" / TEMP_NAME, age_s=2 * HOUR),
    ]
    fresh = plant(tmp_path / "a" / f"{RESERVED_PREFIX}fresh")  # maybe another replica's live upload
    ordinary = plant(tmp_path / "a" / "old-artifact.bin", age_s=2 * HOUR)

    removed = LocalStorage(tmp_path).remove_stale_uploads(HOUR)

    assert removed == 2
    assert not any(p.exists() for p in stale)
    assert fresh.exists()
    assert ordinary.exists()


def test_service_start_sweeps_what_a_killed_upload_left(
    artifact_server: ServerFactory, artifact_dir: Path
) -> None:
    leftover = plant(artifact_dir / "1" / "run" / "artifacts" / TEMP_NAME, age_s=2 * HOUR)
    artifact_server(str(artifact_dir), stale_upload_seconds=HOUR)
    wait_until(lambda: not leftover.exists(), timeout=10, what="start-up sweep of stale uploads")
    assert temporaries(artifact_dir) == []


def test_service_stop_ends_its_transfer_threads(
    artifact_server: ServerFactory, stub_for: Callable[[Any], ArtifactServiceStub], artifact_dir: Path
) -> None:
    def transfer_threads() -> int:
        import threading

        return sum(t.name.startswith("artifacts-transfer") for t in threading.enumerate())

    before = transfer_threads()
    server = artifact_server(str(artifact_dir), stale_upload_seconds=1)  # the sweep uses a thread
    stub = stub_for(server)
    upload(stub, "x.bin", b"x" * 10)
    assert download(stub.DownloadArtifact(pb.DownloadArtifact(path="x.bin")))[1] == b"x" * 10
    wait_until(lambda: transfer_threads() > before, timeout=10, what="the sweep's thread")
    server.stop(grace=None)
    wait_until(lambda: transfer_threads() == before, timeout=10, what="transfer threads to end")


# ------------------------------------------------------------------ through a real runstash server


@pytest.fixture(scope="module")
def sqlite_single(
    database_factory: DatabaseFactory,
    server_launcher: ServerLauncher,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[RunningServer, Path]:
    artifacts = tmp_path_factory.mktemp("temporaries-artifacts")
    server = server_launcher.single(
        database_factory.create("sqlite").uri, str(artifacts), label="temporaries"
    )
    return server, artifacts


def _new_run(url: str) -> tuple[str, str]:
    experiment = httpx.post(
        f"{url}/api/2.0/mlflow/experiments/create", json={"name": f"tmp-{time.monotonic_ns()}"}, timeout=10
    ).json()["experiment_id"]
    run = httpx.post(f"{url}/api/2.0/mlflow/runs/create", json={"experiment_id": experiment}, timeout=10)
    return experiment, run.json()["run"]["info"]["run_id"]


def test_http_routes_refuse_temporary_names(sqlite_single: tuple[RunningServer, Path]) -> None:
    server, artifacts = sqlite_single
    experiment, run_id = _new_run(server.url)
    run_dir = artifacts / experiment / run_id / "artifacts"
    planted = plant(run_dir / TEMP_NAME)
    proxy = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run_id}/artifacts/{TEMP_NAME}"
    query = urllib.parse.urlencode({"run_id": run_id, "path": TEMP_NAME})
    answers = {
        "proxy GET": httpx.get(proxy, timeout=10),
        "proxy PUT": httpx.put(proxy, content=b"overwritten", timeout=10),
        "proxy DELETE": httpx.delete(proxy, timeout=10),
        "get-artifact": httpx.get(f"{server.url}/get-artifact?{query}", timeout=10),
        "artifacts/list": httpx.get(f"{server.url}/api/2.0/mlflow/artifacts/list?{query}", timeout=10),
        "upload-artifact": httpx.post(
            f"{server.url}/ajax-api/2.0/mlflow/upload-artifact?"
            + urllib.parse.urlencode({"run_uuid": run_id, "path": TEMP_NAME}),
            content=b"overwritten",
            timeout=10,
        ),
    }
    for route, answer in answers.items():
        assert answer.status_code == 400, (route, answer.status_code, answer.text)
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE", route
    assert planted.read_bytes() == HALF_WRITTEN


def test_upload_cut_short_by_the_client_leaves_no_temporary(
    sqlite_single: tuple[RunningServer, Path],
) -> None:
    server, artifacts = sqlite_single
    experiment, run_id = _new_run(server.url)
    target = f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run_id}/artifacts/cut.bin"
    host, port = urllib.parse.urlsplit(server.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"PUT {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {64 << 20}\r\n\r\n".encode())
        for _ in range(8):  # 4 MiB of 64: the temporary exists on disk by now
            sock.sendall(b"x" * (512 * 1024))
        run_dir = artifacts / experiment / run_id / "artifacts"
        wait_until(lambda: bool(temporaries(run_dir)), timeout=10, what="the upload's temporary")
    wait_until(lambda: not temporaries(run_dir), timeout=15, what="the cut-short upload's temporary to go")
    assert not (run_dir / "cut.bin").exists()


def test_restart_after_a_kill_mid_upload_sweeps_the_temporary(
    database_factory: DatabaseFactory, server_launcher: ServerLauncher, tmp_path: Path
) -> None:
    database = database_factory.create("sqlite")
    artifacts = tmp_path / "artifacts"
    server = server_launcher.single(database.uri, str(artifacts), label="killed-mid-upload")
    experiment, run_id = _new_run(server.url)
    run_dir = artifacts / experiment / run_id / "artifacts"
    target = f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run_id}/artifacts/big.bin"
    host, port = urllib.parse.urlsplit(server.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"PUT {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {64 << 20}\r\n\r\n".encode())
        sock.sendall(b"x" * (2 << 20))
        wait_until(lambda: bool(temporaries(run_dir)), timeout=10, what="the upload's temporary")
        for proc in server.processes:
            proc.popen.kill()  # SIGKILL: nothing gets to clean up
        server_launcher.stop(server)
    left = temporaries(run_dir)
    assert left, "a killed upload leaves its temporary behind (the case the sweep exists for)"
    for path in left:
        os.utime(path, (time.time() - 2 * HOUR, time.time() - 2 * HOUR))

    restarted = server_launcher.single(database.uri, str(artifacts), label="restarted")
    wait_until(lambda: not temporaries(run_dir), timeout=15, what="the start-up sweep")
    listing = httpx.get(f"{restarted.url}/api/2.0/mlflow/artifacts/list?run_id={run_id}", timeout=10).json()
    assert listing.get("files", []) == []


def test_grpc_status_of_a_reserved_name_is_invalid_argument(
    artifact_server: ServerFactory, stub_for: Callable[[Any], ArtifactServiceStub], artifact_dir: Path
) -> None:
    stub = stub_for(artifact_server(str(artifact_dir)))
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.DownloadArtifact(pb.DownloadArtifact(path=TEMP_NAME)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
