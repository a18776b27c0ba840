"""Fault: the metadata service is down for 20 s in the middle of a job logging 200,000 points.

The job (a process of its own, async logging through :class:`runstash.ingest.AsyncLogger`) must
finish without waiting for the server; after `runstash sync` of its spool, exactly 200,000 points
are stored, each once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from runstash.client import Client

from tests.conftest import SERVER_VENV, free_port

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory

# `alone`: the job must finish logging within the 20 s outage, which a busy machine can stretch.
pytestmark = [pytest.mark.slow, pytest.mark.alone]

KEYS, STEPS = 10, 20_000
OUTAGE_S = 20.0

JOB = """
import json, sys, time
from runstash.connection import Endpoint
from runstash.ingest import AsyncLogger

target, run_id, spool = sys.argv[1], sys.argv[2], sys.argv[3]
keys = [f"k{{k}}" for k in range({keys})]
logger = AsyncLogger(Endpoint.from_uri(target), spool_dir=spool, offline_after=3.0)
start = time.monotonic()
for step in range({steps}):
    for key in keys:
        logger.log_metric(run_id, key, step * 0.5, step, timestamp=1_000 + step)
    if step == 2_000:
        print("logging", flush=True)
    if step % 10 == 0:
        time.sleep(0.004)  # the training step
logger.close()
print(json.dumps({{"wall_s": time.monotonic() - start, "went_offline": logger.offline}}), flush=True)
"""


def _metadata_service(uri: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [str(SERVER_VENV / "bin" / "runstash"), "metadata", "--backend-store-uri", uri,
            "--default-artifact-root", "mlflow-artifacts:/",
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                if (
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    == health_pb2.HealthCheckResponse.SERVING
                ):
                    return proc
            except grpc.RpcError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"runstash metadata did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def service_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_job_survives_a_20_s_outage_and_sync_stores_each_point_once(
    db_kind: str, database_factory: DatabaseFactory, service_dir: Path
) -> None:
    db = database_factory.create(db_kind)
    port = free_port()
    target = f"127.0.0.1:{port}"
    spool = service_dir / "spool"
    server = _metadata_service(db.uri, port, service_dir / "metadata.log")
    job: subprocess.Popen[str] | None = None
    try:
        with Client(target) as client:
            run_id = client.create_run(client.set_experiment("outage")).info.run_id
        script = service_dir / "job.py"
        script.write_text(textwrap.dedent(JOB.format(keys=KEYS, steps=STEPS)))
        job = subprocess.Popen(
            [sys.executable, str(script), target, run_id, str(spool)], stdout=subprocess.PIPE, text=True
        )
        assert job.stdout is not None
        assert job.stdout.readline().strip() == "logging"
        _stop(server)
        stopped_at = time.monotonic()
        time.sleep(OUTAGE_S)  # the outage itself
        job_done_while_down = job.poll() is not None
        server = _metadata_service(db.uri, port, service_dir / "metadata.log")
        out, _ = job.communicate(timeout=300)
        assert job.returncode == 0
        report = json.loads(out.strip().splitlines()[-1])
        assert report["went_offline"]
        # The job did not wait for the server: it ended during the outage.
        assert job_done_while_down, f"job still running {time.monotonic() - stopped_at:.0f} s into the outage"

        sync = subprocess.run(
            [str(SERVER_VENV / "bin" / "runstash"), "sync", str(spool), "--tracking-uri", f"runstash://{target}"],
            check=False, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert sync.returncode == 0, sync.stderr
        with Client(target) as client:
            histories = {f"k{k}": client.get_metric_history(run_id, f"k{k}") for k in range(KEYS)}
        assert sum(len(h) for h in histories.values()) == KEYS * STEPS
        for points in histories.values():
            assert sorted(p.step for p in points) == list(range(STEPS))
    finally:
        if job is not None and job.poll() is None:
            job.kill()
            job.wait()
        _stop(server)
