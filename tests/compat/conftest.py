"""Servers for the stock-client compatibility suite.

``tracking_server`` is one server per (db_kind, deployment) for the whole session. Set
``RUNSTASH_COMPAT_REFERENCE=1`` to point the very same tests at the real ``mlflow server`` instead
(one per db_kind; run with ``--deployments single``): that is how the expectations written here
were checked against MLflow's own behaviour.

``RUNSTASH_TEST_TRANSPORTS=rest,grpc`` also runs every test over ``runstash://`` (the stock client
with the runstash mlflow plugin, on servers of their own with the gRPC services reachable); the
default (``rest``) leaves the suite, its ids and its servers exactly as they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.client.plugin_venv import PluginClientRunner, plugin_python
from tests.compat.scripts import ARTIFACTS, EXPERIMENTS, RUNS, SEARCH, TUTORIAL, compose
from tests.conftest import free_port

if TYPE_CHECKING:
    from tests.conftest import (
        DatabaseFactory,
        MlflowClientRunner,
        ReferenceServerLauncher,
        RunningServer,
        S3Endpoint,
        ServerLauncher,
    )


def against_reference() -> bool:
    return os.environ.get("RUNSTASH_COMPAT_REFERENCE") == "1"


TRANSPORTS = ("rest", "grpc")
# runstash:// URI of each server launched for the gRPC transport, by its HTTP URL.
GRPC_URIS: dict[str, str] = {}


def selected_transports() -> list[str]:
    chosen = [t.strip() for t in os.environ.get("RUNSTASH_TEST_TRANSPORTS", "rest").split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TRANSPORTS]
    if unknown:
        raise pytest.UsageError(
            f"RUNSTASH_TEST_TRANSPORTS: unknown {unknown}, choose from {list(TRANSPORTS)}"
        )
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Parametrized only when gRPC is asked for, so the default run keeps its test ids.
    if "transport" in metafunc.fixturenames and selected_transports() != ["rest"]:
        metafunc.parametrize("transport", selected_transports(), indirect=True, scope="session")


@pytest.fixture(scope="session")
def transport(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "rest"))


def launch_for_grpc(
    launcher: ServerLauncher,
    deployment: str,
    backend_uri: str,
    destination: str,
    *,
    env: dict[str, str],
    label: str,
) -> tuple[RunningServer, str]:
    """A deployment whose gRPC services the plugin can reach; returns it and its runstash:// URI
    (also kept in ``GRPC_URIS`` under the server's HTTP URL)."""
    if deployment == "single":
        port = free_port()
        server = launcher.single(
            backend_uri, destination, env=env, extra_args=["--grpc-port", str(port)], label=label
        )
        GRPC_URIS[server.url] = f"runstash://127.0.0.1:{port}"
        return server, GRPC_URIS[server.url]
    server = launcher.split(backend_uri, destination, env=env, label=label)

    def port_of(prefix: str) -> str:
        proc = next(p for p in server.processes if p.name.startswith(prefix))
        args = [str(a) for a in proc.popen.args]  # type: ignore[union-attr]
        return args[args.index("--port") + 1]

    GRPC_URIS[server.url] = (
        f"runstash://127.0.0.1:{port_of('metadata')}?artifacts=127.0.0.1:{port_of('artifacts')}"
    )
    return server, GRPC_URIS[server.url]


@pytest.fixture(scope="session")
def tracking_server(
    request: pytest.FixtureRequest,
    *,
    db_kind: str,
    deployment: str,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
    transport: str,
) -> Iterator[RunningServer]:
    if transport == "grpc":
        launcher_: ServerLauncher = request.getfixturevalue("server_launcher")
        destination = str(tmp_path_factory.mktemp(f"grpc-artifacts-{db_kind}-{deployment}"))
        db_ = database_factory.create(db_kind)
        label = f"grpc-{deployment}-{db_kind}"
        grpc_server, _ = launch_for_grpc(launcher_, deployment, db_.uri, destination, env={}, label=label)
        yield grpc_server
        launcher_.stop(grpc_server)
        return
    if not against_reference():
        server: RunningServer = request.getfixturevalue("runstash_server")
        yield server
        return
    if deployment != "single":
        pytest.skip("the reference server has no split deployment")
    launcher: ReferenceServerLauncher = request.getfixturevalue("reference_server_launcher")
    db = database_factory.create(db_kind)
    yield launcher.launch(db.sqlalchemy_uri, str(tmp_path_factory.mktemp(f"ref-artifacts-{db_kind}")))


STORAGES = ("sqlite-local", "postgresql-s3")


@pytest.fixture(scope="session", params=STORAGES)
def storage(request: pytest.FixtureRequest) -> str:
    kind = str(request.param).split("-", 1)[0]
    selected = str(request.config.getoption("dbs")).split(",")
    if kind not in selected:
        pytest.skip(f"{kind} not selected (--dbs / RUNSTASH_TEST_DBS)")
    return str(request.param)


@pytest.fixture(scope="session")
def artifact_server(
    request: pytest.FixtureRequest,
    *,
    storage: str,
    deployment: str,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
    transport: str,
) -> Iterator[tuple[RunningServer, S3Endpoint | None, str]]:
    """A server for the artifact-heavy flows: SQLite + local disk, or PostgreSQL + S3 (SeaweedFS)
    behind the proxy. Yields (server, s3 endpoint or None, artifacts destination)."""
    kind, store = storage.split("-", 1)
    db = database_factory.create(kind)
    s3: S3Endpoint | None = None
    env: dict[str, str] = {}
    if store == "s3":
        s3 = request.getfixturevalue("s3_endpoint")
        assert s3 is not None
        destination = s3.destination(f"{deployment}-{db.name}")
        env = s3.env()
    else:
        destination = str(tmp_path_factory.mktemp(f"art-{storage}-{deployment}"))
    if against_reference():
        if deployment != "single":
            pytest.skip("the reference server has no split deployment")
        ref: ReferenceServerLauncher = request.getfixturevalue("reference_server_launcher")
        yield ref.launch(db.sqlalchemy_uri, destination, env=env), s3, destination
        return
    launcher: ServerLauncher = request.getfixturevalue("server_launcher")
    if transport == "grpc":
        label = f"grpc-{deployment}-{storage}"
        server, _ = launch_for_grpc(launcher, deployment, db.uri, destination, env=env, label=label)
    else:
        server = launcher.launch(deployment, db.uri, destination, env=env, label=f"{deployment}-{storage}")
    yield server, s3, destination
    launcher.stop(server)


@pytest.fixture(scope="session")
def tracking_results(
    request: pytest.FixtureRequest, tracking_server: RunningServer, mlflow_client: MlflowClientRunner
) -> dict[str, Any]:
    """One stock-client process per server for the experiments, runs and search tests."""
    script = compose({"experiments": EXPERIMENTS, "runs": RUNS, "search": SEARCH})
    result: dict[str, Any] = _client_for(request, tracking_server, mlflow_client).run(
        script, GRPC_URIS.get(tracking_server.url, tracking_server.url), timeout=540
    )
    return result


@pytest.fixture(scope="session")
def artifact_results(
    request: pytest.FixtureRequest,
    artifact_server: tuple[RunningServer, S3Endpoint | None, str],
    mlflow_client: MlflowClientRunner,
) -> dict[str, Any]:
    """One stock-client process per artifact server for the artifact and tutorial tests."""
    script = compose({"artifacts": ARTIFACTS, "tutorial": TUTORIAL})
    server = artifact_server[0]
    result: dict[str, Any] = _client_for(request, server, mlflow_client).run(
        script, GRPC_URIS.get(server.url, server.url), timeout=840
    )
    return result


def _client_for(
    request: pytest.FixtureRequest, server: RunningServer, stock: MlflowClientRunner
) -> MlflowClientRunner | PluginClientRunner:
    """The stock client, or the stock client with the plugin for a server launched for gRPC."""
    if server.url in GRPC_URIS:
        plugin: PluginClientRunner = request.getfixturevalue("plugin_client")
        return plugin
    return stock


@pytest.fixture(scope="session")
def plugin_client(tmp_path_factory: pytest.TempPathFactory) -> PluginClientRunner:
    return PluginClientRunner(plugin_python(), tmp_path_factory.mktemp("plugin-client"))
