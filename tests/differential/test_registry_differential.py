"""Differential test of the model registry: registry_scenario.py against the real `mlflow server`
and runstash (each on a fresh SQLite database), compared as test_differential.py compares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.differential.registry_scenario import REGISTRY_KNOWN_DIFFERENCES, REGISTRY_SCENARIO
from tests.differential.test_differential import Observed, differences, replay

# Both servers seal webhook secrets under the same key (runstash refuses a secret without one).
SECRETS_KEY = {"MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": "0Ue1wSdwZy3a3Ncz4qDDbiy8Rk-XZIXnUUWx3ae5y9Y="}

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ReferenceServerLauncher, RunningServer, ServerLauncher


@pytest.fixture(scope="module")
def registry_reference(
    reference_server_launcher: ReferenceServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Observed]:
    db = database_factory.create("sqlite")
    server = reference_server_launcher.launch(
        db.sqlalchemy_uri, str(tmp_path_factory.mktemp("reg-ref-artifacts")), workers=1, env=SECRETS_KEY
    )
    try:
        return replay(server.url, REGISTRY_SCENARIO)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def registry_candidate(
    deployment: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    db = database_factory.create("sqlite")
    artifacts = tmp_path_factory.mktemp(f"reg-{deployment}-artifacts")
    server = server_launcher.launch(
        deployment, db.uri, str(artifacts), env=SECRETS_KEY, label=f"reg-{deployment}"
    )
    yield server
    server_launcher.stop(server)


def test_registry_responses_match_mlflow(
    registry_reference: list[Observed], registry_candidate: RunningServer
) -> None:
    found = differences(
        registry_reference,
        replay(registry_candidate.url, REGISTRY_SCENARIO),
        REGISTRY_SCENARIO,
        REGISTRY_KNOWN_DIFFERENCES,
    )
    assert not found, f"{len(found)} of {len(REGISTRY_SCENARIO)} steps differ from mlflow:\n" + "\n".join(
        found
    )


def test_registry_scenario_is_meaningful(registry_reference: list[Observed]) -> None:
    """The scenario must succeed where it means to (captures worked) and hit each error family."""
    by_name = {o.step: o for o in registry_reference}
    assert by_name["reg.run.create"].status == 200
    for name in (
        "mv.create.runs",
        "mv.create.artifacts",
        "mv.create.copy",
        "alias.get",
        "rms.page2",
        "mvs.page2",
    ):
        assert by_name[name].status == 200, name
    codes = {o.body.get("error_code") for o in registry_reference if isinstance(o.body, dict)}
    assert {"INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS"} <= codes
    for name in REGISTRY_KNOWN_DIFFERENCES:
        assert name in by_name, name
