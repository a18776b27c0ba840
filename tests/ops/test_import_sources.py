"""`runstash import` from the other sources and `runstash export`, against a real `mlflow server`
(3.17.2, its own venv) on PostgreSQL holding the tutorial's runs, a long metric history, deleted
records and the registry:

* the source's database read directly (``--from postgresql://…``, read only): record for record
  what the REST source gives, and the import it makes equals the source field by field;
* export to a directory, killed once and resumed, then imported: equal to the source field by
  field and artifact by artifact; a second run changes nothing;
* registry timestamps kept on import.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runstash_server.transfer.rest import Rest
from runstash_server.transfer.source import RestSource
from runstash_server.transfer.sql_source import SqlSource
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.ops.import_seed import SEED
from tests.ops.snapshot import snapshot
from tests.ops.source_records import assert_same_records, records
from tests.ops.test_import import assert_same
from tests.support import reference
from tests.support.databases import Database, DatabaseFactory
from tests.support.health import wait_until
from tests.support.mlflow_client import MlflowClientRunner
from tests.support.reference import ReferenceServerLauncher
from tests.support.servers import RunningServer, ServerLauncher, runstash_executable

POINTS = int(os.environ.get("RUNSTASH_TEST_IMPORT_POINTS", "100000"))


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return done


@pytest.fixture(scope="module")
def seeded_source(
    reference_server_launcher: ReferenceServerLauncher,
    database_factory: DatabaseFactory,
    mlflow_client: MlflowClientRunner,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, Database, Path, dict[str, Any]]]:
    """One seeded source for the module: both tests only read it."""
    source_db = database_factory.create("postgresql")
    artifacts = tmp_path_factory.mktemp("mlflow-artifacts")
    with pytest.MonkeyPatch.context() as patch:
        # A fresh PostgreSQL database makes mlflow run all its migrations before it answers,
        # minutes on a loaded 2-core machine: a longer bound on its health poll, nothing else.
        patch.setattr(reference, "REFERENCE_START_TIMEOUT_S", 900.0)
        source = reference_server_launcher.launch(source_db.sqlalchemy_uri, str(artifacts))
    env = {"SEED_POINTS": str(POINTS), "SEED_BLOB_BYTES": str(3 * 1024 * 1024)}
    seeded = mlflow_client.run(SEED, source.url, env=env, timeout=1200)
    yield source, source_db, artifacts, seeded


@pytest.mark.timeout(1800)
def test_database_source_reads_what_rest_gives_read_only_and_imports_equal(
    seeded_source: tuple[RunningServer, Database, Path, dict[str, Any]],
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path: Path,
) -> None:
    source, source_db, artifacts, seeded = seeded_source
    rest, sql = RestSource(Rest(source.url)), SqlSource(source_db.uri, str(artifacts))
    try:
        from_rest, from_sql = records(rest, seeded["long"]), records(sql, seeded["long"])
        with sql.engine.connect() as conn, pytest.raises(DBAPIError, match="read-only transaction"):
            conn.execute(text("DELETE FROM tags"))
    finally:
        rest.close()
        sql.close()
    assert len(from_sql["long_history"]) == POINTS
    assert_same_records(from_rest, from_sql)

    target = server_launcher.single(database_factory.create("postgresql").uri, str(tmp_path / "rs-artifacts"))
    argv = [runstash_executable(), "import", "--from", source_db.uri, "--to", target.url,
            "--source-artifacts", str(artifacts), "--state-file", str(tmp_path / "pg.state")]  # fmt: skip
    _run(argv)
    expected = snapshot(source.url)
    assert_same(expected, snapshot(target.url))
    again = _run(argv)
    runs = len(expected["runs"])
    assert f"{runs} runs ({runs} already done)" in again.stdout
    assert_same(expected, snapshot(target.url))


@pytest.mark.timeout(1800)
def test_export_killed_resumed_then_import_equals_source(
    seeded_source: tuple[RunningServer, Database, Path, dict[str, Any]],
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path: Path,
) -> None:
    source, _db, _artifacts, seeded = seeded_source
    folder = tmp_path / "export"
    export = [runstash_executable(), "export", "--from", source.url, str(folder)]
    log = (tmp_path / "export-killed.log").open("wb")
    proc = subprocess.Popen(export, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: (folder / "runs" / seeded["long"]).is_dir() or proc.poll() is not None,
            timeout=600,
            what="the export to reach the long run",
        )
        if proc.poll() is None:
            proc.kill()
    finally:
        proc.wait(60)
        log.close()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "export-killed.log").read_text()
    assert not (folder / "runs" / seeded["long"] / "run.json").exists()
    resumed = _run(export)
    assert "Exported" in resumed.stdout and "already done" in resumed.stdout
    manifest = (folder / "manifest.json").read_text()
    assert '"format": "runstash-export"' in manifest
    chunks = list((folder / "runs" / seeded["long"] / "metrics" / "loss").glob("*.csv"))
    assert chunks and sum(len(c.read_text().splitlines()) - 1 for c in chunks) == POINTS
    assert any(p.name == "blob.bin" for p in (folder / "artifacts").rglob("*"))

    target = server_launcher.single(database_factory.create("sqlite").uri, str(tmp_path / "rs-artifacts"))
    argv = [runstash_executable(), "import", "--from", str(folder), "--to", target.url,
            "--state-file", str(tmp_path / "dir.state")]  # fmt: skip
    _run(argv)
    expected = snapshot(source.url)
    assert_same(expected, snapshot(target.url))
    again = _run(argv)
    runs = len(expected["runs"])
    assert f"{runs} runs ({runs} already done)" in again.stdout
    fresh = _run([*argv[:-1], str(tmp_path / "fresh.state")])  # every unit again: still no duplicates
    assert "0 model versions" in fresh.stdout
    assert_same(expected, snapshot(target.url))
