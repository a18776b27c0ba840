"""The metadata gRPC server: health, reflection, RunstashError -> status + MLflow code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from runstash_metadata.server import build_server
from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.settings import MetadataSettings
from runstash_metadata.store.migrate import HEAD_REVISION, MIGRATIONS_DIR, current_revision
from runstash_protos import metadata_pb2 as pb
from runstash_protos import metadata_pb2_grpc
from runstash_protos.errors import ERROR_CODE_METADATA_KEY

from tests.metadata.store_driver import StoreDriver


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[grpc.Channel]:
    servicer = MetadataServicer.open(
        MetadataSettings(f"sqlite:///{tmp_path / 'server.db'}", "mlflow-artifacts:/")
    )
    server, port = build_server(servicer, "127.0.0.1:0", max_workers=4)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        yield ch
    server.stop(0).wait()
    servicer.close()


def test_health_and_reflection(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "runstash.metadata.MetadataService"):
        status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (response,) = list(reflection.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in response.list_services_response.service}
    assert names == {
        "runstash.metadata.MetadataService",
        "runstash.registry.ModelRegistryService",
        "runstash.traces.TraceService",
        "runstash.ingest.IngestService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_errors_travel_as_status_and_code(channel: grpc.Channel) -> None:
    stub = metadata_pb2_grpc.MetadataServiceStub(channel)
    assert stub.GetExperiment(pb.GetExperiment(experiment_id="0"), timeout=5).experiment.name == "Default"
    with pytest.raises(grpc.RpcError) as info:
        stub.GetExperiment(pb.GetExperiment(experiment_id="404"), timeout=5)
    error = info.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "No Experiment with id=404 exists"
    trailing: set[tuple[str, object]] = {(m.key, m.value) for m in error.trailing_metadata()}
    assert (ERROR_CODE_METADATA_KEY, "RESOURCE_DOES_NOT_EXIST") in trailing


def test_migrations_head_matches_and_reopen_is_cheap(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() == HEAD_REVISION
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    first = StoreDriver.open(uri, "/tmp/artifacts")
    assert current_revision(first.db.engine) == HEAD_REVISION
    assert first.get_experiment(0).artifact_location == "/tmp/artifacts/0"
    first.close()
    again = StoreDriver.open(uri, "/tmp/artifacts")  # already at head: no migration, no second Default
    assert again.get_experiment(0).name == "Default"
    again.close()


def test_clean_shutdown_leaves_no_sqlite_side_files(tmp_path: Path) -> None:
    path = tmp_path / "clean.db"
    servicer = MetadataServicer.open(MetadataSettings(f"sqlite:///{path}", "/tmp/artifacts"))
    experiment_id = servicer.CreateExperiment(pb.CreateExperiment(name="e"), None).experiment_id
    run = servicer.CreateRun(pb.CreateRun(experiment_id=experiment_id), None).run
    servicer.LogMetric(pb.LogMetric(run_id=run.info.run_id, key="m", value=1.0, timestamp=1), None)
    servicer.GetRun(pb.GetRun(run_id=run.info.run_id), None)
    assert path.with_name("clean.db-wal").exists()  # WAL mode while open
    servicer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.db"]
