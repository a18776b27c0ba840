"""`runstash import` from a real `mlflow server` 3.17.2: the tutorial's run with its logged model,
a 100,000-point metric history, deleted records and the registry, compared field by field and
artifact by artifact with the source; killed mid-way and resumed; run again without changing
anything."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from runstash_server.transfer.rest import Rest
from runstash_server.transfer.source import RestSource
from runstash_server.transfer.sql_source import SqlSource

from tests.ops.import_seed import SEED
from tests.ops.snapshot import snapshot
from tests.ops.source_records import assert_same_records, records
from tests.support.databases import DatabaseFactory
from tests.support.health import wait_until
from tests.support.mlflow_client import MlflowClientRunner
from tests.support.reference import ReferenceServerLauncher
from tests.support.servers import ServerLauncher, runstash_executable

# The size; a smaller one may be asked for while iterating on this test.
POINTS = int(os.environ.get("RUNSTASH_TEST_IMPORT_POINTS", "100000"))


def importer(source: str, target: str, state: Path) -> list[str]:
    return [runstash_executable(), "import", "--from", source, "--to", target, "--state-file", str(state)]


def assert_same(source: dict[str, Any], target: dict[str, Any]) -> None:
    assert target["experiments"] == source["experiments"]
    assert sorted(target["runs"]) == sorted(source["runs"])
    for run_id, run in source["runs"].items():
        for part, value in run.items():
            assert target["runs"][run_id][part] == value, (run_id, part)
    assert sorted(target["logged_models"]) == sorted(source["logged_models"])
    for model_id, model in source["logged_models"].items():
        for key, value in model["info"].items():
            assert target["logged_models"][model_id]["info"].get(key) == value, (model_id, key)
    assert target["logged_models"] == source["logged_models"]
    assert target["registry"] == source["registry"]


@pytest.mark.timeout(1800)  # seeding 100,000 points through the stock client is most of it
def test_import_from_mlflow_server_killed_resumed_and_idempotent(
    reference_server_launcher: ReferenceServerLauncher,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    mlflow_client: MlflowClientRunner,
    tmp_path: Path,
) -> None:
    source_db = database_factory.create("sqlite")
    source = reference_server_launcher.launch(source_db.sqlalchemy_uri, str(tmp_path / "mlflow-artifacts"))
    env = {"SEED_POINTS": str(POINTS), "SEED_BLOB_BYTES": str(3 * 1024 * 1024)}
    seeded = mlflow_client.run(SEED, source.url, env=env, timeout=900)
    target = server_launcher.single(
        database_factory.create("sqlite").uri, str(tmp_path / "runstash-artifacts")
    )
    state = tmp_path / "import.state"

    def long_run_started() -> bool:
        answer = httpx.get(f"{target.url}/api/2.0/mlflow/runs/get", params={"run_id": seeded["long"]})
        return answer.status_code == 200

    log = (tmp_path / "import-killed.log").open("wb")
    proc = subprocess.Popen(importer(source.url, target.url, state), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: long_run_started() or proc.poll() is not None,
            timeout=600,
            what="the import to reach the long run",
        )
        if proc.poll() is None:
            proc.kill()
    finally:
        proc.wait(60)
        log.close()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "import-killed.log").read_text()
    assert f"run {seeded['long']}" not in state.read_text()

    resumed = subprocess.run(
        importer(source.url, target.url, state), capture_output=True, text=True, timeout=900, check=False
    )
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    expected = snapshot(source.url)
    assert len(expected["runs"][seeded["long"]]["histories"]["loss"]) == POINTS
    assert any(path.endswith("data/blob.bin") for path in expected["runs"][seeded["tutorial"]]["artifacts"])
    assert seeded["model_id"] in expected["logged_models"]
    assert_same(expected, snapshot(target.url))
    # The source's SQLite database read directly gives what its REST API gives.
    rest, database = RestSource(Rest(source.url)), SqlSource(source_db.uri, None)
    try:
        assert_same_records(records(rest, seeded["long"]), records(database, seeded["long"]))
    finally:
        rest.close()
        database.close()

    again = subprocess.run(
        importer(source.url, target.url, state), capture_output=True, text=True, timeout=900, check=False
    )
    assert again.returncode == 0, again.stderr
    runs = len(expected["runs"])
    assert (
        f"Imported {len(expected['experiments'])} experiments, {runs} runs ({runs} already done)"
        in again.stdout
    )
    # A fresh state file re-copies everything: still no duplicate points, versions or files.
    fresh = subprocess.run(
        importer(source.url, target.url, tmp_path / "fresh.state"),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert "0 model versions" in fresh.stdout
    assert_same(expected, snapshot(target.url))
