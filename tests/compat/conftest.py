"""Servers for the stock-client compatibility suite.

``tracking_server`` is one server per (db_kind, deployment) for the whole session. Set
``RUNSTASH_COMPAT_REFERENCE=1`` to point the very same tests at the real ``mlflow server`` instead
(one per db_kind; run with ``--deployments single``): that is how the expectations written here
were checked against MLflow's own behaviour.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.compat.scripts import ARTIFACTS, EXPERIMENTS, RUNS, SEARCH, TUTORIAL, compose

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


@pytest.fixture(scope="session")
def tracking_server(
    request: pytest.FixtureRequest,
    db_kind: str,
    deployment: str,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
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
    storage: str,
    deployment: str,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
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
    server = launcher.launch(deployment, db.uri, destination, env=env, label=f"{deployment}-{storage}")
    yield server, s3, destination
    launcher.stop(server)


@pytest.fixture(scope="session")
def tracking_results(tracking_server: RunningServer, mlflow_client: MlflowClientRunner) -> dict[str, Any]:
    """One stock-client process per server for the experiments, runs and search tests."""
    script = compose({"experiments": EXPERIMENTS, "runs": RUNS, "search": SEARCH})
    result: dict[str, Any] = mlflow_client.run(script, tracking_server.url, timeout=540)
    return result


@pytest.fixture(scope="session")
def artifact_results(
    artifact_server: tuple[RunningServer, S3Endpoint | None, str], mlflow_client: MlflowClientRunner
) -> dict[str, Any]:
    """One stock-client process per artifact server for the artifact and tutorial tests."""
    script = compose({"artifacts": ARTIFACTS, "tutorial": TUTORIAL})
    result: dict[str, Any] = mlflow_client.run(script, artifact_server[0].url, timeout=840)
    return result
