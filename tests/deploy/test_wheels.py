"""The wheels are what users install, each into a fresh venv.

`runstash-server` gives a working `runstash server` (and the operator's commands) with the built
web UI inside the gateway's wheel; the client package `runstash` alone pulls only the gRPC client's
dependencies, holds and imports no server code, has `runstash sync`, and says what to install when
asked to serve.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")
MEMBERS = ("protos/python", "services/metadata", "services/artifacts", "gateway", "clients/python", "server")
SERVER_ONLY = {"sqlalchemy", "alembic", "uvicorn", "boto3", "psycopg2-binary", "pymysql", "orjson"}
CLIENT_ALLOWED = {
    "runstash",
    "runstash-protos",
    "grpcio",
    "grpcio-health-checking",
    "grpcio-reflection",
    "protobuf",
    "googleapis-common-protos",
    "click",
    "typing-extensions",
}


SERVER_PACKAGES = ("runstash_server", "runstash_gateway", "runstash_metadata", "runstash_artifacts")
IMPORT_EVERY_CLIENT_MODULE = f"""
import importlib, pkgutil, sys
import runstash
for module in pkgutil.walk_packages(runstash.__path__, "runstash."):
    if not module.name.startswith("runstash.mlflow_plugin"):
        importlib.import_module(module.name)
server = {(*SERVER_PACKAGES, "sqlalchemy", "alembic", "uvicorn", "boto3")!r}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in server)
assert not loaded, loaded
"""


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / "gateway" / "ui" / "dist" / "index.html").is_file():
        pytest.skip("the web UI is not built (make ui): the gateway's wheel must carry it")
    out = tmp_path_factory.mktemp("wheels")
    env = {**os.environ, "RUNSTASH_WHEEL_REQUIRE_UI": "1"}
    for member in MEMBERS:
        _run(UV, "build", "-q", "--wheel", "--out-dir", out, ROOT / member, env=env)
    return out


def _wheel(wheels: Path, distribution: str) -> Path:
    (found,) = wheels.glob(f"{distribution.replace('-', '_')}-*.whl")
    return found


def _venv(path: Path, *wheel_files: Path) -> Path:
    _run(UV, "venv", "-q", "--python", sys.executable, path)
    python = path / "bin" / "python"
    _run(UV, "pip", "install", "-q", "--python", python, *wheel_files)
    return python


def _installed(python: Path) -> set[str]:
    listing = _run(UV, "pip", "freeze", "--python", python).stdout
    return {
        re.split(r"[=@ ]", line, maxsplit=1)[0].lower().replace("_", "-") for line in listing.splitlines()
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(wheels: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    venv = tmp_path_factory.mktemp("server-venv")
    _venv(venv, *sorted(wheels.glob("*.whl")))
    work = tmp_path_factory.mktemp("server-data")
    port = _free_port()
    log = work / "server.log"
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [str(venv / "bin" / "runstash"), "server", "--port", str(port),
             "--backend-store-uri", f"sqlite:///{work / 'runstash.db'}",
             "--artifacts-destination", str(work / "a")],
            cwd=work, stdout=subprocess.DEVNULL, stderr=err,
            env={k: v for k, v in os.environ.items() if k != "RUNSTASH_UI_DIR"},
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server from the wheels not healthy within 60 s"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_server_wheels_serve_health_api_and_the_packaged_ui(server_url: str) -> None:
    assert httpx.get(f"{server_url}/health").text == "OK"
    index = httpx.get(f"{server_url}/")
    assert index.status_code == 200 and "text/html" in index.headers["content-type"]
    assert '<div id="root"' in index.text
    created = httpx.post(f"{server_url}/api/2.0/mlflow/experiments/create", json={"name": "from-wheels"})
    assert created.status_code == 200 and created.json()["experiment_id"]


def test_client_wheel_alone_pulls_no_server_dependencies(wheels: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "client", _wheel(wheels, "runstash"), _wheel(wheels, "runstash-protos"))
    installed = _installed(python)
    assert installed <= CLIENT_ALLOWED, installed - CLIENT_ALLOWED
    assert not installed & SERVER_ONLY
    _run(python, "-c", "import runstash.client, runstash_protos.metadata_pb2_grpc")
    # Every module of the client wheel (but the optional mlflow plugin) imports, and none of them
    # pulls in server code or a server dependency.
    _run(python, "-c", IMPORT_EVERY_CLIENT_MODULE)
    names = zipfile.ZipFile(_wheel(wheels, "runstash")).namelist()
    assert not [n for n in names if n.startswith(SERVER_PACKAGES)], names
    # The server's commands live in runstash-server now, not in the client.
    assert not {"runstash/serve.py", "runstash/cli_db.py", "runstash/auth_options.py"} & set(names), names
    helped = subprocess.run(
        [str(tmp_path / "client" / "bin" / "runstash"), "sync", "--help"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert helped.returncode == 0 and "Usage: runstash sync" in helped.stdout, helped.stderr
    refused = subprocess.run(
        [str(tmp_path / "client" / "bin" / "runstash"), "server"], check=False, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "pip install runstash-server" in refused.stderr
