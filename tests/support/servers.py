"""Plugin: runstash deployments on free ports, health polled with a bound, process trees killed.

``single`` is ``runstash server`` (gateway and both services in one process); ``split`` is
``runstash metadata`` + N ``runstash artifacts`` replicas + ``runstash gateway``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.health import grpc_serving, http_ok, wait_until
from tests.support.layout import SERVER_VENV
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, tail

SERVER_START_TIMEOUT_S = float(os.environ.get("RUNSTASH_TEST_START_TIMEOUT", "60"))


@dataclasses.dataclass
class RunningServer:
    """A started deployment: `url` is the HTTP base URL (gateway or single process)."""

    url: str
    deployment: str  # single | split | reference
    backend_uri: str
    artifacts_destination: str
    processes: list[ManagedProcess]
    started_in_s: float

    def alive(self) -> bool:
        return all(p.alive() for p in self.processes)

    def log_tail(self, max_chars: int = 6000) -> str:
        parts = [
            f"--- {p.name} (pid {p.popen.pid}, rc {p.popen.poll()}) {p.log_path}\n"
            + tail(p.log_path, max_chars)
            for p in self.processes
        ]
        return "\n".join(parts)

    def stop(self) -> None:
        # Gateway first, then the services it talks to. The services end together: each spends
        # a second or two in its gRPC shutdown, so one after the other adds up over a run.
        procs = list(reversed(self.processes))
        if procs:
            procs[0].stop()
        for proc in procs[1:]:
            proc.terminate()
        for proc in procs[1:]:
            proc.stop()

    @property
    def pids(self) -> list[int]:
        return [p.popen.pid for p in self.processes]


def runstash_executable() -> str:
    exe = SERVER_VENV / "bin" / "runstash"
    if not exe.exists():
        raise RuntimeError(f"{exe} missing: run `make install`")
    return str(exe)


def server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _listen_args(port: int) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(port)]


class PortInUseError(RuntimeError):
    """A server lost the race for a port picked as free (another process bound it first)."""


PORT_CONFLICT_MARKERS = ("address already in use", "failed to bind", "errno 98")


class ServerLauncher:
    """Starts runstash deployments; stop_all() ends whatever is still running.

    Ports are picked free just before start; on a shared machine another process can take one in
    between, so a start that dies of a port conflict is retried on new ports (twice)."""

    START_ATTEMPTS = 3

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._servers: list[RunningServer] = []
        self._counter = 0

    def _dir(self, label: str) -> Path:
        self._counter += 1
        d = self._workdir / f"{self._counter:02d}-{label}"
        d.mkdir(parents=True)
        return d

    def single(
        self,
        backend_uri: str,
        artifacts_destination: str,
        *,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        label: str = "single",
    ) -> RunningServer:
        """`runstash server` (gateway + both services in one process)."""
        return self._retrying(
            functools.partial(self._single_once, backend_uri, artifacts_destination, env, extra_args, label)
        )

    def split(
        self,
        backend_uri: str,
        artifacts_destination: str,
        *,
        env: Mapping[str, str] | None = None,
        artifact_replicas: int = 2,
        label: str = "split",
    ) -> RunningServer:
        """`runstash metadata` + `artifact_replicas` x `runstash artifacts` + `runstash gateway`."""
        return self._retrying(
            functools.partial(
                self._split_once, backend_uri, artifacts_destination, env, artifact_replicas, label
            )
        )

    def _retrying(self, start: Callable[[], RunningServer]) -> RunningServer:
        for attempt in range(1, self.START_ATTEMPTS + 1):
            try:
                return start()
            except PortInUseError:
                if attempt == self.START_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _failed(self, server: RunningServer, exc: Exception) -> Exception:
        """The exception for a failed start; stops what did start."""
        logs = server.log_tail()
        died = not server.alive()
        server.stop()
        if server in self._servers:
            self._servers.remove(server)
        if died and any(m in logs.lower() for m in PORT_CONFLICT_MARKERS):
            return PortInUseError(f"{exc}\n{logs}")
        return RuntimeError(f"{exc}\n{logs}")

    def _single_once(
        self,
        backend_uri: str,
        artifacts_destination: str,
        env: Mapping[str, str] | None,
        extra_args: Sequence[str],
        label: str,
    ) -> RunningServer:
        d = self._dir(label)
        port = free_port()
        argv = [
            runstash_executable(),
            "server",
            "--backend-store-uri",
            backend_uri,
            "--default-artifact-root",
            "mlflow-artifacts:/",
            "--artifacts-destination",
            artifacts_destination,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra_args,
        ]
        start = time.monotonic()
        proc = ManagedProcess.start("runstash-server", argv, d / "server.log", server_env(env), d)
        server = RunningServer(
            f"http://127.0.0.1:{port}", "single", backend_uri, artifacts_destination, [proc], 0.0
        )
        self._servers.append(server)
        self._await_http(server, start)
        return server

    def _split_once(
        self,
        backend_uri: str,
        artifacts_destination: str,
        env: Mapping[str, str] | None,
        artifact_replicas: int,
        label: str,
    ) -> RunningServer:
        d = self._dir(label)
        full_env = server_env(env)
        start = time.monotonic()
        server = RunningServer("", "split", backend_uri, artifacts_destination, [], 0.0)
        self._servers.append(server)

        meta_address = self._start_metadata(server, backend_uri, d, full_env)
        artifact_addresses = [
            self._start_artifacts(
                server,
                i,
                artifacts_destination=artifacts_destination,
                meta_address=meta_address,
                d=d,
                env=full_env,
            )
            for i in range(artifact_replicas)
        ]
        # The gateway builds its routes from the services' reflection at start-up: they must be
        # serving first.
        services = zip(server.processes, [meta_address, *artifact_addresses], strict=True)
        for proc, address in services:
            try:
                wait_until(
                    functools.partial(grpc_serving, address),
                    timeout=SERVER_START_TIMEOUT_S,
                    what=f"{proc.name} gRPC health at {address}",
                    alive=proc.alive,
                )
            except (RuntimeError, TimeoutError) as exc:
                raise self._failed(server, exc) from None

        gw_port = free_port()
        argv = [
            runstash_executable(),
            "gateway",
            "--metadata",
            meta_address,
            "--artifacts",
            ",".join(artifact_addresses),
            *_listen_args(gw_port),
        ]
        server.processes.append(ManagedProcess.start("gateway", argv, d / "gateway.log", full_env, d))
        server.url = f"http://127.0.0.1:{gw_port}"
        self._await_http(server, start)
        return server

    @staticmethod
    def _start_metadata(server: RunningServer, backend_uri: str, d: Path, env: Mapping[str, str]) -> str:
        """Starts `runstash metadata` as part of `server`; returns its gRPC address."""
        port = free_port()
        argv = [
            runstash_executable(),
            "metadata",
            "--backend-store-uri",
            backend_uri,
            "--default-artifact-root",
            "mlflow-artifacts:/",
            *_listen_args(port),
        ]
        server.processes.append(ManagedProcess.start("metadata", argv, d / "metadata.log", env, d))
        return f"127.0.0.1:{port}"

    @staticmethod
    def _start_artifacts(
        server: RunningServer,
        index: int,
        *,
        artifacts_destination: str,
        meta_address: str,
        d: Path,
        env: Mapping[str, str],
    ) -> str:
        """Starts artifact replica `index` as part of `server`; returns its gRPC address."""
        port = free_port()
        argv = [
            runstash_executable(),
            "artifacts",
            "--artifacts-destination",
            artifacts_destination,
            "--metadata",
            meta_address,
            *_listen_args(port),
        ]
        name = f"artifacts-{index}"
        server.processes.append(ManagedProcess.start(name, argv, d / f"{name}.log", env, d))
        return f"127.0.0.1:{port}"

    def _await_http(self, server: RunningServer, start: float) -> None:
        try:
            wait_until(
                lambda: http_ok(server.url + "/health", "OK"),
                timeout=SERVER_START_TIMEOUT_S,
                what=f"{server.deployment} runstash at {server.url}/health",
                alive=server.alive,
            )
        except (RuntimeError, TimeoutError) as exc:
            raise self._failed(server, exc) from None
        server.started_in_s = time.monotonic() - start

    def launch(
        self,
        deployment: str,
        backend_uri: str,
        artifacts_destination: str,
        *,
        env: Mapping[str, str] | None = None,
        label: str | None = None,
    ) -> RunningServer:
        if deployment == "single":
            return self.single(backend_uri, artifacts_destination, env=env, label=label or "single")
        if deployment == "split":
            return self.split(backend_uri, artifacts_destination, env=env, label=label or "split")
        raise ValueError(deployment)

    def stop(self, server: RunningServer) -> None:
        server.stop()
        if server in self._servers:
            self._servers.remove(server)

    def stop_all(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def server_launcher(
    tmp_path_factory: pytest.TempPathFactory, database_factory: DatabaseFactory
) -> Iterator[ServerLauncher]:
    # Depends on database_factory so that servers stop before their databases are dropped.
    del database_factory
    launcher = ServerLauncher(tmp_path_factory.mktemp("servers"))
    yield launcher
    launcher.stop_all()


@pytest.fixture(scope="session")
def runstash_server(
    db_kind: str,
    deployment: str,
    database_factory: DatabaseFactory,
    server_launcher: ServerLauncher,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    """runstash on a fresh database of `db_kind` with local-disk artifacts, deployed as `deployment`."""
    db = database_factory.create(db_kind)
    artifacts = tmp_path_factory.mktemp(f"artifacts-{db_kind}-{deployment}")
    server = server_launcher.launch(deployment, db.uri, str(artifacts), label=f"{deployment}-{db_kind}")
    yield server
    server_launcher.stop(server)
