"""`runstash gc`: deleted runs, logged models and experiments removed for good with their
artifacts (local folder and S3), on each database; refused selections change nothing; a gc killed
mid-way and run again finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from runstash_metadata.store import schema as s
from runstash_metadata.store.metrics import MetricPoint
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError
from sqlalchemy import Table, func, select, text

from tests.metadata.store_driver import StoreDriver
from tests.ops.artifact_files import ArtifactFiles
from tests.support.databases import DatabaseFactory
from tests.support.health import wait_until
from tests.support.s3 import S3Endpoint
from tests.support.servers import runstash_executable

ROOT = "mlflow-artifacts:/"


@pytest.fixture
def store(database_factory: DatabaseFactory, db_kind: str) -> Iterator[StoreDriver]:
    driver = StoreDriver.open(database_factory.create(db_kind).uri, ROOT)
    yield driver
    driver.close()


@pytest.fixture
def files(tmp_path: Path, s3_endpoint: S3Endpoint) -> ArtifactFiles:
    return ArtifactFiles(tmp_path / "mlartifacts", s3_endpoint)


def gc(
    store: StoreDriver, files: ArtifactFiles, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    argv = [
        runstash_executable(),
        "gc",
        "--backend-store-uri",
        store.q.uri,
        "--artifacts-destination",
        str(files.destination),
        *args,
    ]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env={**os.environ, **files.s3.env()}, timeout=300, check=False
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def start_gc(store: StoreDriver, files: ArtifactFiles, *args: str) -> subprocess.Popen[bytes]:
    argv = [
        runstash_executable(),
        "gc",
        "--backend-store-uri",
        store.q.uri,
        "--artifacts-destination",
        str(files.destination),
        *args,
    ]
    env = {**os.environ, **files.s3.env()}
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def rows(store: StoreDriver, table: Table, column: str, ids: list[str]) -> int:
    with store.db.reader() as conn:
        return int(
            conn.execute(select(func.count()).select_from(table).where(table.c[column].in_(ids))).scalar_one()
        )


def step_blocks(store: StoreDriver, run_ids: list[str]) -> int:
    """Step blocks left for the runs (PostgreSQL keeps them for bulk-interval; elsewhere none)."""
    if store.db.engine.dialect.name != "postgresql":
        return 0
    with store.db.reader() as conn:
        stmt = text("SELECT count(*) FROM metric_step_blocks WHERE run_uuid = ANY(:ids)")
        return int(conn.execute(stmt, {"ids": run_ids}).scalar_one())


def run_exists(store: StoreDriver, run_id: str) -> bool:
    try:
        store.get_run(run_id)
    except RunstashError:
        return False
    return True


def full_run(store: StoreDriver, files: ArtifactFiles, experiment_id: int, name: str) -> str:
    """A run with params, tags, a metric history, a dataset input and two artifact files."""
    run = store.create_run(experiment_id, run_name=name, start_time=1)
    rid = run.info.run_id
    store.log_batch(
        rid,
        metrics=[MetricPoint("loss", 0.5, 1, i) for i in range(50)],
        params=[("lr", "0.1")],
        tags=[("t", "v")],
    )
    dataset = pb.DatasetInput(
        dataset=pb.Dataset(name=f"d-{name}", digest="abc", source_type="local", source="/x")
    )
    store.log_inputs(rid, datasets=[dataset])
    files.put(run.info.artifact_uri, "model/weights.bin", b"w" * 1000)
    files.put(run.info.artifact_uri, "notes.txt", b"hello")
    return rid


def test_gc_removes_deleted_runs_models_experiments_and_their_artifacts(
    store: StoreDriver, files: ArtifactFiles
) -> None:
    local_exp = int(store.create_experiment("local"))
    s3_exp = int(store.create_experiment("s3", artifact_location=files.s3_location("s3-exp")))
    doomed_exp = int(store.create_experiment("doomed", artifact_location=files.s3_location("doomed-exp")))
    kept = full_run(store, files, local_exp, "kept")
    gone_local = full_run(store, files, local_exp, "gone-local")
    gone_s3 = full_run(store, files, s3_exp, "gone-s3")
    in_doomed = [full_run(store, files, doomed_exp, f"d{i}") for i in range(3)]
    model = store.create_logged_model(doomed_exp, name="m")
    files.put(model.info.artifact_uri, "MLmodel", b"m")
    uris = {r: store.get_run(r).info.artifact_uri for r in [kept, gone_local, gone_s3, *in_doomed]}
    store.delete_run(gone_local)
    store.delete_run(gone_s3)
    store.delete_experiment(doomed_exp)
    gone = [gone_local, gone_s3, *in_doomed]
    blocks_before = step_blocks(store, gone)
    assert blocks_before > 0 or store.db.engine.dialect.name != "postgresql"

    out = gc(store, files).stdout
    assert "Permanently deleted 5 runs, 1 logged models and 1 experiments." in out

    assert [r for r in gone if run_exists(store, r)] == []
    for table in (s.params, s.tags, s.metrics, s.latest_metrics):
        assert rows(store, table, "run_uuid", gone) == 0, table.name
    assert rows(store, s.inputs, "destination_id", gone) == 0
    assert step_blocks(store, gone) == 0
    assert rows(store, s.logged_models, "model_id", [model.info.model_id]) == 0
    assert rows(store, s.experiments, "experiment_id", [str(doomed_exp)]) == 0
    assert rows(store, s.datasets, "experiment_id", [str(doomed_exp)]) == 0
    for r in gone:
        assert files.listing(uris[r]) == [], r
    assert files.listing(model.info.artifact_uri) == []
    # What was not deleted is untouched, artifacts included.
    assert store.get_run(kept).data.params[0].value == "0.1"
    assert rows(store, s.metrics, "run_uuid", [kept]) == 50
    assert files.listing(uris[kept]) == ["model/weights.bin", "notes.txt"]
    assert store.get_experiment(s3_exp).lifecycle_stage == "active"

    assert "Permanently deleted 0 runs" in gc(store, files).stdout


def test_gc_named_ids_older_than_and_dry_run(store: StoreDriver, files: ArtifactFiles) -> None:
    exp = int(store.create_experiment("e"))
    active = full_run(store, files, exp, "active")
    deleted = [full_run(store, files, exp, f"del{i}") for i in range(3)]
    for r in deleted:
        store.delete_run(r)

    refused = gc(store, files, "--run-ids", f"{deleted[0]},{active}", check=False)
    assert refused.returncode == 1
    assert f"Run {active} is not in `deleted` lifecycle stage" in refused.stderr
    refused = gc(store, files, "--experiment-ids", str(exp), check=False)
    assert "are not in the deleted lifecycle stage" in refused.stderr
    refused = gc(store, files, "--older-than", "3x", check=False)
    assert "Could not parse any time information from '3x'" in refused.stderr
    refused = gc(store, files, "--run-ids", deleted[0], "--older-than", "1d", check=False)
    assert f"Run {deleted[0]} is not older than the required age" in refused.stderr
    assert all(run_exists(store, r) for r in deleted)  # nothing changed

    dry = gc(store, files, "--dry-run").stdout
    assert sorted(line.split()[3] for line in dry.splitlines() if line.startswith("Run with ID")) == sorted(
        deleted
    )
    assert all(run_exists(store, r) for r in deleted)
    assert "Permanently deleted 0 runs" in gc(store, files, "--older-than", "1d").stdout

    out = gc(store, files, "--run-ids", deleted[0]).stdout
    assert "Permanently deleted 1 runs" in out
    assert not run_exists(store, deleted[0]) and run_exists(store, deleted[1])
    # Run again with the same ids: the collected one is skipped, not an error.
    again = gc(store, files, "--run-ids", f"{deleted[0]},{deleted[1]}")
    assert f"Run with id={deleted[0]} not found" in again.stderr
    assert not run_exists(store, deleted[1]) and run_exists(store, deleted[2]) and run_exists(store, active)


def test_gc_killed_midway_then_resumed(store: StoreDriver, files: ArtifactFiles) -> None:
    exp = int(store.create_experiment("many", artifact_location=files.s3_location("many")))
    run_ids = []
    for i in range(120):
        run = store.create_run(exp, run_name=f"r{i}")
        files.put(run.info.artifact_uri, "a.txt", b"x" * 100)
        store.log_batch(run.info.run_id, metrics=[MetricPoint("m", 1.0, 1, 0)], params=[("p", "v")])
        run_ids.append(run.info.run_id)
    for r in run_ids:
        store.delete_run(r)

    def remaining() -> int:
        return rows(store, s.runs, "run_uuid", run_ids)

    proc = start_gc(store, files, "--batch-size", "1")
    try:
        wait_until(
            lambda: remaining() <= 110 or proc.poll() is not None, timeout=120, what="gc to make progress"
        )
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    left = remaining()
    assert proc.returncode == -signal.SIGKILL and 0 < left < 120, f"gc finished before the kill ({left} left)"
    # Whole batches only: every run still in the database still has its child rows.
    still = [r for r in run_ids if run_exists(store, r)]
    assert rows(store, s.params, "run_uuid", still) == len(still)

    out = gc(store, files).stdout
    assert f"Permanently deleted {left} runs" in out
    assert remaining() == 0 and rows(store, s.metrics, "run_uuid", run_ids) == 0
    assert files.listing(files.s3_location("many")) == []
