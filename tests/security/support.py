"""Helpers for the security and fault suites: exact-bytes HTTP requests and MLflow error checks.

Attack shapes must reach the server byte for byte: httpx (and browsers) normalise dot segments and
re-encode ``%``, so requests here go through ``http.client``, which sends the request target as
given. Each test module starts its own server (one per module) through the session fixtures.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names; a repeated header keeps its last value
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        return f"{self.status} {self.content_type} {self.body[:300]!r}"


def raw_request(
    base_url: str,
    method: str,
    target: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> RawResponse:
    """Sends ``target`` (path + query, already encoded) exactly as written, after the base URL's
    own path (a --static-prefix)."""
    parsed = urllib.parse.urlsplit(base_url)
    target = parsed.path.rstrip("/") + target
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=timeout)
    try:
        # skip_host lets a test send its own Host header (or none of it twice).
        send_headers = dict(headers or {})
        conn.putrequest(method, target, skip_host="Host" in send_headers, skip_accept_encoding=True)
        for name, value in send_headers.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def post_json(base_url: str, target: str, document: Any, **kwargs: Any) -> RawResponse:
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return raw_request(
        base_url, "POST", target, body=json.dumps(document).encode(), headers=headers, **kwargs
    )


def is_mlflow_error(response: RawResponse) -> bool:
    if not response.content_type.startswith("application/json"):
        return False
    try:
        document = response.json()
    except ValueError:
        return False
    return (
        isinstance(document, dict)
        and isinstance(document.get("error_code"), str)
        and isinstance(document.get("message"), str)
    )


def assert_mlflow_error(response: RawResponse, status: int, error_code: str | None = None) -> None:
    assert response.status == status, response.describe()
    assert is_mlflow_error(response), response.describe()
    if error_code is not None:
        assert response.json()["error_code"] == error_code, response.describe()


def checked_json(response: RawResponse) -> Any:
    assert response.status == 200, response.describe()
    return response.json()


def create_experiment(base_url: str, name: str, **fields: Any) -> str:
    reply = checked_json(post_json(base_url, "/api/2.0/mlflow/experiments/create", {"name": name, **fields}))
    return str(reply["experiment_id"])


def create_run(base_url: str, experiment_id: str) -> dict[str, Any]:
    reply = checked_json(post_json(base_url, "/api/2.0/mlflow/runs/create", {"experiment_id": experiment_id}))
    info: dict[str, Any] = reply["run"]["info"]
    return info


def healthy(base_url: str) -> bool:
    try:
        response = raw_request(base_url, "GET", "/health", timeout=5)
    except OSError:
        return False
    return response.status == 200 and response.body.strip() == b"OK"


def files_under(root: Path, *, skip: Sequence[Path] = ()) -> set[Path]:
    """Every file and directory below ``root`` (not following links), minus the ``skip`` trees."""
    found: set[Path] = set()
    for path in root.rglob("*"):
        if any(path == s or s in path.parents for s in skip):
            continue
        found.add(path)
    return found


@dataclass
class StartedServer:
    url: str
    backend_uri: str
    artifacts: Path  # --artifacts-destination
    sandbox: Path  # a directory around it: canaries live here, outside the artifact root
    prefix: str = ""  # --static-prefix, if the server was started with one


def start_sqlite_server(
    label: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    extra_args: Sequence[str] = (),
    deployment: str = "single",
) -> Iterator[StartedServer]:
    """A server (single process, or the split deployment) on a fresh SQLite DB with its artifact
    root inside a sandbox dir."""
    sandbox = tmp_path_factory.mktemp(label)
    artifacts = sandbox / "root" / "artifacts"
    artifacts.mkdir(parents=True)
    db = database_factory.create("sqlite")
    if deployment == "single":
        server = server_launcher.single(db.uri, str(artifacts), extra_args=list(extra_args), label=label)
    else:
        assert not extra_args, "the split launcher takes no extra flags"
        server = server_launcher.split(db.uri, str(artifacts), label=f"{label}-split")
    try:
        yield StartedServer(server.url, server.backend_uri, artifacts, sandbox)
    finally:
        server_launcher.stop(server)


@dataclass
class OwnServer:
    """A runstash server this suite starts itself (the session launcher polls an unprefixed
    /health, so it cannot start a --static-prefix server)."""

    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def start_prefixed_server(
    label: str,
    prefix: str,
    *,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
    extra_args: Sequence[str] = (),
    start_timeout: float = 60.0,
) -> Iterator[StartedServer]:
    """Like :func:`start_sqlite_server`, for a server run with ``--static-prefix prefix``."""
    sandbox = tmp_path_factory.mktemp(label)
    artifacts = sandbox / "root" / "artifacts"
    artifacts.mkdir(parents=True)
    db = database_factory.create("sqlite")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    executable = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "runstash"
    argv = [
        str(executable),
        "server",
        "--backend-store-uri",
        db.uri,
        "--default-artifact-root",
        "mlflow-artifacts:/",
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--static-prefix",
        prefix,
        *extra_args,
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}
    log_path = sandbox / "server.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    own = OwnServer(f"http://127.0.0.1:{port}", proc, log_path)
    try:
        deadline = time.monotonic() + start_timeout
        while not healthy(own.url + prefix):
            if not own.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"prefixed server did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.1)
        yield StartedServer(own.url, db.uri, artifacts, sandbox, prefix)
    finally:
        own.stop()
