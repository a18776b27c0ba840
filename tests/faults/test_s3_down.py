"""The S3 artifact store goes away under a running server, then comes back.

This module starts its own SeaweedFS (``weed mini``, as tests/conftest.py does) so that it can stop
it: the session's shared S3 endpoint is never touched. While S3 is down, artifact calls through the
gateway answer quickly with 503 TEMPORARILY_UNAVAILABLE in MLflow JSON and the tracking API keeps
working; an upload that was streaming when S3 died leaves no object, complete or partial, once S3
is back; and the same server process serves artifacts again after the restart.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.security.support import (
    RawResponse,
    create_experiment,
    create_run,
    healthy,
    is_mlflow_error,
    post_json,
    raw_request,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, RunningServer, ServerLauncher

pytestmark = pytest.mark.s3

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "faultaccesskey"
SECRET_KEY = "faultsecretkey123"
REGION = "us-east-1"
CALL_BOUND_S = 30.0
START_BOUND_S = 60.0


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _ports() -> dict[str, int]:
    """Free ports for weed's services, each with its +10000 gRPC twin free too."""
    rng = random.Random()
    chosen: dict[str, int] = {}
    for name in ("master", "volume", "filer", "s3", "admin"):
        for _ in range(200):
            port = rng.randint(20000, 45000)
            if port not in chosen.values() and _port_free(port) and _port_free(port + 10000):
                chosen[name] = port
                break
        else:
            raise RuntimeError("no free port pair")
    return chosen


@dataclass
class Weed:
    """A SeaweedFS this module owns: it can be stopped and started again on the same ports/data."""

    data_dir: Path
    ports: dict[str, int] = field(default_factory=_ports)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.ports["s3"]), timeout=1):
                pass
        except OSError:
            return False

        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        binary = REPO_ROOT / ".venv" / "bin" / "weed"
        argv = [
            str(binary),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{k}.port={p}" for k, p in self.ports.items()),
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        with (self.data_dir / "weed.log").open("ab") as log:
            self.proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_BOUND_S
        while not self._up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.data_dir / 'weed.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("weed did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # abrupt: the store "goes away"
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        self.proc = None  # (weed rebinds its ports with SO_REUSEADDR: no wait for TIME_WAIT)

    def client(self) -> Any:

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


@dataclass
class S3Server:
    server: RunningServer
    weed: Weed
    bucket: str
    prefix: str
    experiment_id: str
    run_id: str

    @property
    def url(self) -> str:
        return self.server.url

    def run_path(self, name: str) -> str:
        return f"/api/2.0/mlflow-artifacts/artifacts/{self.experiment_id}/{self.run_id}/artifacts/{name}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{self.experiment_id}/{self.run_id}/artifacts/{name}"

    def stored_keys(self) -> list[str]:
        listing = self.weed.client().list_objects_v2(Bucket=self.bucket, Prefix=self.prefix + "/")
        return sorted(obj["Key"] for obj in listing.get("Contents", []))


@pytest.fixture(scope="module")
def s3_server(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[S3Server]:
    weed = Weed(tmp_path_factory.mktemp("fault-weed"))
    weed.start()
    try:
        bucket, prefix = f"fault-{secrets.token_hex(4)}", "root"
        weed.client().create_bucket(Bucket=bucket)
        db = database_factory.create("sqlite")
        env = {
            "MLFLOW_S3_ENDPOINT_URL": weed.url,
            "AWS_ENDPOINT_URL_S3": weed.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
        server = server_launcher.single(db.uri, f"s3://{bucket}/{prefix}", env=env, label="fault-s3")
        try:
            experiment_id = create_experiment(server.url, "s3-down")
            run_id = str(create_run(server.url, experiment_id)["run_id"])
            yield S3Server(server, weed, bucket, prefix, experiment_id, run_id)
        finally:
            server_launcher.stop(server)
    finally:
        weed.stop()


@pytest.fixture
def s3_restored(s3_server: S3Server) -> Iterator[S3Server]:
    """Whatever a test does to S3, the next one finds it running."""
    yield s3_server
    if s3_server.weed.proc is None:
        s3_server.weed.start()


def _is_unavailable(response: RawResponse) -> bool:
    return (
        response.status == 503
        and is_mlflow_error(response)
        and response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    )


def test_s3_down_gives_503_json_and_tracking_keeps_working(s3_restored: S3Server) -> None:
    s = s3_restored
    assert raw_request(s.url, "PUT", s.run_path("before.txt"), body=b"before").status == 200
    s.weed.stop()

    calls = {
        "upload": ("PUT", s.run_path("during.txt"), b"during"),
        "download": ("GET", s.run_path("before.txt"), None),
        "list": (
            "GET",
            f"/api/2.0/mlflow-artifacts/artifacts?path={s.experiment_id}/{s.run_id}/artifacts",
            None,
        ),
        "delete": ("DELETE", s.run_path("before.txt"), None),
        "get-artifact": ("GET", f"/get-artifact?run_id={s.run_id}&path=before.txt", None),
        "artifacts/list": ("GET", f"/api/2.0/mlflow/artifacts/list?run_id={s.run_id}", None),
        "ui upload": ("POST", f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={s.run_id}&path=ui.txt", b"ui"),
    }
    problems = []
    for name, (method, target, body) in calls.items():
        start = time.monotonic()
        response = raw_request(s.url, method, target, body=body, timeout=CALL_BOUND_S + 10)
        took = time.monotonic() - start
        if took > CALL_BOUND_S:
            problems.append(f"{name}: took {took:.1f} s")
        if not _is_unavailable(response):
            problems.append(f"{name}: expected 503 TEMPORARILY_UNAVAILABLE JSON, got {response.describe()}")
    # The metadata side does not depend on S3.
    tracked = post_json(
        s.url,
        "/api/2.0/mlflow/runs/log-metric",
        {"run_id": s.run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0},
    )
    assert tracked.status == 200, tracked.describe()
    assert healthy(s.url)

    s.weed.start()
    deadline = time.monotonic() + CALL_BOUND_S
    while raw_request(s.url, "GET", s.run_path("before.txt")).status != 200:
        assert time.monotonic() < deadline, "artifact serving did not come back after S3 did"
        time.sleep(0.2)
    assert raw_request(s.url, "GET", s.run_path("before.txt")).body == b"before"
    assert raw_request(s.url, "PUT", s.run_path("after.txt"), body=b"after").status == 200
    assert s.key("during.txt") not in s.stored_keys() and s.key("ui.txt") not in s.stored_keys()
    assert s.key("before.txt") in s.stored_keys(), "a DELETE that failed must not have deleted anyway"
    assert not problems, "\n".join(problems)


def test_upload_cut_by_s3_dying_leaves_no_object(s3_restored: S3Server) -> None:
    s = s3_restored
    name = "streaming.bin"
    total = 96 * 1024 * 1024  # several 8 MiB parts: S3 dies after some have been stored
    chunk = b"z" * (1024 * 1024)
    sent = 0
    killed = threading.Event()

    def body() -> Iterator[bytes]:
        nonlocal sent
        while sent < total:
            if sent >= 40 * 1024 * 1024 and not killed.is_set():
                s.weed.stop()
                killed.set()
            sent += len(chunk)
            yield chunk

    parsed = urllib.parse.urlsplit(s.url)
    conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=CALL_BOUND_S + 30)
    status: int | None = None
    response_body = b""
    try:
        conn.request("PUT", s.run_path(name), body=body(), headers={"Content-Length": str(total)})
        reply = conn.getresponse()
        status, response_body = reply.status, reply.read()
    except (BrokenPipeError, ConnectionResetError):
        status = None  # the server gave up on the body and closed: the client sees a failed upload
    finally:
        conn.close()
    assert killed.is_set()
    assert status != 200, "an upload whose store died mid-way cannot have succeeded"
    if status is not None:
        assert status == 503, (status, response_body[:300])
    assert healthy(s.url)

    s.weed.start()
    keys = s.stored_keys()
    assert s.key(name) not in keys, "a cut-short upload left an object behind"
    got = raw_request(s.url, "GET", s.run_path(name))
    assert got.status == 404, got.describe()


def test_client_vanishing_mid_upload_leaves_no_object_and_no_open_upload(s3_restored: S3Server) -> None:
    """S3 stays up, the *client* goes away after 20 of 40 MiB: no object, and the multipart
    upload holding the parts already sent is aborted (bounded wait: the abort is asynchronous)."""
    s = s3_restored
    name = "vanished.bin"

    def open_uploads() -> list[str]:
        uploads = s.weed.client().list_multipart_uploads(Bucket=s.bucket, Prefix=s.prefix + "/")
        return [u["Key"] for u in uploads.get("Uploads", []) if u["Key"] == s.key(name)]

    parsed = urllib.parse.urlsplit(s.url)
    total = 40 * 1024 * 1024
    with socket.create_connection((parsed.hostname or "", parsed.port or 80), timeout=30) as sock:
        sock.sendall(
            f"PUT {s.run_path(name)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {total}\r\n\r\n".encode()
        )
        piece = b"v" * (1024 * 1024)
        for _ in range(20):
            sock.sendall(piece)
        # Parts are on S3 now (8 MiB each): the upload is open when the client vanishes.
        deadline = time.monotonic() + 15
        while not open_uploads():
            assert time.monotonic() < deadline, "the server never started streaming to S3"
            time.sleep(0.1)

    deadline = time.monotonic() + 15
    while open_uploads():
        assert time.monotonic() < deadline, "the multipart upload of a vanished client was never aborted"
        time.sleep(0.2)
    assert s.key(name) not in s.stored_keys(), "a cut-short upload left an object behind"
    assert raw_request(s.url, "GET", s.run_path(name)).status == 404
    assert healthy(s.url)
