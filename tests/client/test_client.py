"""The runstash gRPC client against a real `runstash server --grpc-port` (SQLite)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from runstash.client import Client
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

from tests.conftest import free_port

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher


@pytest.fixture(scope="module")
def client(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Client]:
    db = database_factory.create("sqlite")
    grpc_port = free_port()
    server = server_launcher.single(
        db.uri,
        str(tmp_path_factory.mktemp("client-artifacts")),
        extra_args=["--grpc-port", str(grpc_port)],
        label="client",
    )
    with Client(f"127.0.0.1:{grpc_port}") as c:
        yield c
    server_launcher.stop(server)


def test_experiments_and_runs_round_trip(client: Client) -> None:
    experiment_id = client.set_experiment("client-exp")
    assert client.set_experiment("client-exp") == experiment_id  # found, not created twice
    run = client.create_run(experiment_id, run_name="r1", tags={"team": "a"})
    run_id = run.info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.set_tag(run_id, "stage", "train")
    client.log_metric(run_id, "loss", 0.5, step=1)
    client.log_batch(run_id, metrics=[pb.Metric(key="loss", value=float("nan"), timestamp=2, step=2)])
    info = client.end_run(run_id)
    assert info.status == pb.FINISHED

    fetched = client.get_run(run_id)
    assert {p.key: p.value for p in fetched.data.params} == {"lr": "0.1"}
    tags = {t.key: t.value for t in fetched.data.tags}
    assert tags["team"] == "a" and tags["stage"] == "train" and tags["mlflow.runName"] == "r1"
    (latest,) = fetched.data.metrics
    assert latest.step == 2 and math.isnan(latest.value)


def test_errors_arrive_as_runstash_errors_with_mlflow_codes(client: Client) -> None:
    with pytest.raises(RunstashError) as missing:
        client.get_run("0" * 32)
    assert missing.value.code is ErrorCode.RESOURCE_DOES_NOT_EXIST
    experiment_id = client.set_experiment("client-errors")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "p", "1")
    with pytest.raises(RunstashError) as changed:
        client.log_param(run_id, "p", "2")
    assert changed.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert "Changing param values is not allowed" in changed.value.message
    assert client.get_experiment_by_name("no-such-experiment") is None


def test_batcher_and_paged_reads(client: Client) -> None:
    experiment_id = client.set_experiment("client-batches")
    run_id = client.create_run(experiment_id).info.run_id
    with client.metric_batcher(run_id, max_points=500) as batcher:
        for step in range(2500):
            batcher.log("acc", step / 2500, step=step, timestamp=step)
    history = client.get_metric_history(run_id, "acc", page_size=1000)
    assert [p.step for p in history] == list(range(2500))

    for i in range(5):
        client.create_run(experiment_id, run_name=f"extra-{i}")
    runs = list(client.search_runs([experiment_id], "attributes.run_name LIKE 'extra-%'", page_size=2))
    assert sorted(r.info.run_name for r in runs) == [f"extra-{i}" for i in range(5)]
