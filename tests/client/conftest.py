"""Servers with their gRPC port open, and the stock mlflow client with the runstash plugin."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.client.plugin_venv import plugin_python
from tests.conftest import CLIENT_PRELUDE, free_port

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, RunningServer, ServerLauncher


@dataclass(frozen=True)
class GrpcServer:
    """`runstash server --grpc-port`: REST at ``http_url``, gRPC at ``target``."""

    server: RunningServer
    target: str
    backend_uri: str

    @property
    def http_url(self) -> str:
        return self.server.url

    @property
    def runstash_uri(self) -> str:
        return f"runstash://{self.target}"


@pytest.fixture(scope="session")
def grpc_server(
    db_kind: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GrpcServer]:
    db = database_factory.create(db_kind)
    port = free_port()
    server = server_launcher.single(
        db.uri,
        str(tmp_path_factory.mktemp(f"grpc-artifacts-{db_kind}")),
        extra_args=["--grpc-port", str(port)],
        label=f"grpc-{db_kind}",
    )
    yield GrpcServer(server, f"127.0.0.1:{port}", db.uri)
    server_launcher.stop(server)


class PluginClientRunner:
    """Runs scripts with the stock mlflow client + the runstash plugin (``.venv-mlflow-plugin``);
    ``emit(obj)`` and ``error_of(fn, ...)`` are predefined, as in the compatibility suite."""

    def __init__(self, python: Path, workdir: Path) -> None:
        self._python = python
        self._workdir = workdir
        self._count = 0

    def run(
        self, code: str, tracking_uri: str, *, env: Mapping[str, str] | None = None, timeout: float = 300
    ) -> Any:
        self._count += 1
        d = self._workdir / f"plugin-{self._count:03d}"
        d.mkdir(parents=True)
        script = d / "script.py"
        script.write_text(CLIENT_PRELUDE + "\n" + textwrap.dedent(code))
        result_file = d / "result.json"
        full_env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
            and not k.startswith(("MLFLOW_", "RUNSTASH_"))
        }
        full_env.update(
            {
                "MLFLOW_TRACKING_URI": tracking_uri,
                "RUNSTASH_RESULT_FILE": str(result_file),
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "true",
                "GIT_PYTHON_REFRESH": "quiet",
                "PYTHONUNBUFFERED": "1",
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
                **(env or {}),
            }
        )
        proc = subprocess.run(
            [str(self._python), str(script)],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=d,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"plugin client script failed (rc {proc.returncode}, {script}):\n"
                f"--- stderr\n{proc.stderr[-6000:]}\n--- stdout\n{proc.stdout[-2000:]}",
                pytrace=False,
            )
        return json.loads(result_file.read_text()) if result_file.exists() else None


@pytest.fixture(scope="session")
def plugin_client(tmp_path_factory: pytest.TempPathFactory) -> PluginClientRunner:
    return PluginClientRunner(plugin_python(), tmp_path_factory.mktemp("plugin-client"))
