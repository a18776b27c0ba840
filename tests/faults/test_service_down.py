"""A service of the split deployment dies behind the gateway (metadata service, artifact replica).

The gateway must keep answering: 503 TEMPORARILY_UNAVAILABLE in MLflow JSON for calls that need
the dead service (quickly, no hang), normal answers for everything else, the surviving artifact
replica takes the traffic of the dead one, and a metadata service started again on the same
address is used again without restarting the gateway.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.security.support import (
    RawResponse,
    create_experiment,
    create_run,
    healthy,
    is_mlflow_error,
    post_json,
    raw_request,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ManagedProcess, RunningServer, ServerLauncher

CALL_BOUND_S = 15.0
RECOVERY_BOUND_S = 30.0


@dataclass
class Split:
    server: RunningServer
    artifacts: Path
    experiment_id: str
    run_id: str

    @property
    def url(self) -> str:
        return self.server.url

    def process(self, name: str) -> ManagedProcess:
        return next(p for p in self.server.processes if p.name == name)

    def artifact_path(self, name: str) -> str:
        return f"/api/2.0/mlflow-artifacts/artifacts/{self.experiment_id}/{self.run_id}/artifacts/{name}"


@pytest.fixture
def split(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Split]:
    """A fresh split deployment per test: each test kills part of it."""
    db = database_factory.create("sqlite")
    artifacts = tmp_path_factory.mktemp("fault-split-artifacts")
    server = server_launcher.split(db.uri, str(artifacts), label="fault-split")
    try:
        experiment_id = create_experiment(server.url, "split-faults")
        run_id = str(create_run(server.url, experiment_id)["run_id"])
        yield Split(server, artifacts, experiment_id, run_id)
    finally:
        server_launcher.stop(server)


def _timed(split: Split, method: str, target: str, body: bytes | None = None) -> tuple[RawResponse, float]:
    start = time.monotonic()
    headers = {"Content-Type": "application/json"} if method == "POST" and target.startswith("/api/") else {}
    response = raw_request(split.url, method, target, body=body, headers=headers, timeout=CALL_BOUND_S + 10)
    return response, time.monotonic() - start


def _unavailable(response: RawResponse) -> bool:
    return (
        response.status == 503
        and is_mlflow_error(response)
        and response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    )


def test_metadata_service_down_then_back_on_the_same_address(split: Split) -> None:
    s = split
    assert raw_request(s.url, "PUT", s.artifact_path("a.txt"), body=b"a").status == 200
    metadata = s.process("metadata")
    argv = [str(a) for a in metadata.popen.args]  # type: ignore[union-attr]
    metadata.stop(grace_s=5)

    problems = []
    for name, method, target, body in (
        ("runs/get", "GET", f"/api/2.0/mlflow/runs/get?run_id={s.run_id}", None),
        ("experiments/search", "GET", "/api/2.0/mlflow/experiments/search?max_results=5", None),
        (
            "runs/create",
            "POST",
            "/api/2.0/mlflow/runs/create",
            f'{{"experiment_id": "{s.experiment_id}"}}'.encode(),
        ),
        ("get-artifact (needs the run's root)", "GET", f"/get-artifact?run_id={s.run_id}&path=a.txt", None),
    ):
        response, took = _timed(s, method, target, body)
        if not _unavailable(response) or took > CALL_BOUND_S:
            problems.append(
                f"{name}: {response.describe()} after {took:.1f} s (want 503 TEMPORARILY_UNAVAILABLE)"
            )
    # The artifact proxy does not need the metadata service.
    proxied, _ = _timed(s, "GET", s.artifact_path("a.txt"))
    assert proxied.status == 200 and proxied.body == b"a", proxied.describe()
    assert healthy(s.url)

    # The same service, started again at the same address (as an orchestrator would).
    log = s.artifacts.parent / "metadata-restarted.log"
    with log.open("ab") as out:
        restarted = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    try:
        deadline = time.monotonic() + RECOVERY_BOUND_S
        while raw_request(s.url, "GET", f"/api/2.0/mlflow/runs/get?run_id={s.run_id}").status != 200:
            assert restarted.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the gateway never used the restarted metadata service"
            time.sleep(0.2)
        created = post_json(s.url, "/api/2.0/mlflow/runs/create", {"experiment_id": s.experiment_id})
        assert created.status == 200, created.describe()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(restarted.pid, signal.SIGTERM)
        try:
            restarted.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(restarted.pid, signal.SIGKILL)
            restarted.wait(5)
    assert not problems, "\n".join(problems)


def test_one_artifact_replica_down_the_other_takes_over(split: Split) -> None:
    s = split
    for i in range(4):
        assert (
            raw_request(s.url, "PUT", s.artifact_path(f"f{i}.txt"), body=f"file {i}".encode()).status == 200
        )
    s.process("artifacts-0").stop(grace_s=5)

    statuses = []
    for i in range(40):
        response, took = _timed(s, "GET", s.artifact_path(f"f{i % 4}.txt"))
        assert took < CALL_BOUND_S, f"request {i} took {took:.1f} s"
        if response.status != 200:
            assert _unavailable(response), f"request {i}: {response.describe()}"
        else:
            assert response.body == f"file {i % 4}".encode()
        statuses.append(response.status)
    # A dead replica may cost a request or two while its channel is found down, not every other one.
    assert statuses[-20:] == [200] * 20, statuses
    upload = raw_request(s.url, "PUT", s.artifact_path("after.txt"), body=b"after")
    assert upload.status == 200, upload.describe()
    assert (s.artifacts / s.experiment_id / s.run_id / "artifacts" / "after.txt").read_bytes() == b"after"
    # The tracking side never noticed.
    assert raw_request(s.url, "GET", f"/api/2.0/mlflow/runs/get?run_id={s.run_id}").status == 200
