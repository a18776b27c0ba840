"""Plugin: the real ``mlflow server`` from .venv-mlflow, the reference for differential tests."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.health import http_ok, wait_until
from tests.support.layout import CLIENT_VENV
from tests.support.mlflow_client import client_python
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess
from tests.support.servers import RunningServer, server_env

REFERENCE_START_TIMEOUT_S = 180.0


class ReferenceServerLauncher:
    """Starts the real `mlflow server` from .venv-mlflow (takes ~15-20 s)."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._servers: list[RunningServer] = []

    def launch(
        self,
        backend_uri: str,
        artifacts_destination: str,
        *,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
    ) -> RunningServer:
        client_python()
        d = self._workdir / f"mlflow-{len(self._servers):02d}"
        d.mkdir(parents=True)
        port = free_port()
        argv = [
            str(CLIENT_VENV / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            backend_uri,
            "--artifacts-destination",
            artifacts_destination,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        start = time.monotonic()
        proc = ManagedProcess.start(
            "mlflow-server",
            argv,
            d / "mlflow.log",
            server_env(
                {
                    "MLFLOW_DISABLE_TELEMETRY": "true",
                    # The job runner (huey consumers, ~10 processes) serves GenAI jobs only; tests
                    # do not need it and the 2-core machine does not want it.
                    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                    **(env or {}),
                }
            ),
            d,
        )
        server = RunningServer(
            f"http://127.0.0.1:{port}", "reference", backend_uri, artifacts_destination, [proc], 0
        )
        self._servers.append(server)
        try:
            wait_until(
                lambda: http_ok(server.url + "/health", "OK"),
                timeout=REFERENCE_START_TIMEOUT_S,
                what=f"mlflow server at {server.url}",
                alive=server.alive,
            )
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{server.log_tail()}") from None
        server.started_in_s = time.monotonic() - start
        return server

    def stop_all(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def reference_server_launcher(
    tmp_path_factory: pytest.TempPathFactory, database_factory: DatabaseFactory
) -> Iterator[ReferenceServerLauncher]:
    del database_factory  # stop before databases are dropped
    launcher = ReferenceServerLauncher(tmp_path_factory.mktemp("reference"))
    yield launcher
    launcher.stop_all()
