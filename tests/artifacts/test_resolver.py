"""The run / logged-model routes wired to the real metadata service (SQLite), in-process and over
gRPC, as `runstash server` and the split deployment wire them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from runstash_artifacts.resolver import MetadataResolver
from runstash_artifacts.servicer import ArtifactServicer, build_servicer
from runstash_artifacts.settings import ArtifactSettings
from runstash_metadata.server import serve as serve_metadata
from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.settings import MetadataSettings
from runstash_protos import artifacts_pb2 as pb
from runstash_protos import metadata_pb2 as md
from runstash_protos.errors import ErrorCode, RunstashError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataServicer]:
    store = MetadataServicer.open(MetadataSettings(f"sqlite:///{tmp_path / 'meta.db'}", "mlflow-artifacts:/"))
    yield store
    store.close()


def make_run_and_model(metadata: Any, call: Any) -> tuple[str, str]:
    experiment_id = call(metadata.CreateExperiment, md.CreateExperiment(name="artifacts")).experiment_id
    run = call(metadata.CreateRun, md.CreateRun(experiment_id=experiment_id, start_time=1)).run
    model = call(
        metadata.CreateLoggedModel,
        md.CreateLoggedModel(experiment_id=experiment_id, name="model", source_run_id=run.info.run_id),
    ).model
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run.info.run_id}/artifacts"
    return run.info.run_id, model.info.model_id


def exercise(artifacts: ArtifactServicer, run_id: str, model_id: str, destination: Path) -> None:
    artifacts.UploadRunArtifact(
        iter([pb.UploadRunArtifact(run_uuid=run_id, path="notes/ui.txt", data=b"from the UI")]), None
    )
    [written] = destination.rglob("ui.txt")
    assert written.relative_to(destination).as_posix().endswith(f"/{run_id}/artifacts/notes/ui.txt")
    listing = artifacts.ListRunArtifacts(pb.ListRunArtifacts(run_id=run_id, path="notes"), None)
    assert [f.path for f in listing.files] == ["notes/ui.txt"]
    messages = list(artifacts.GetRunArtifact(pb.GetRunArtifact(run_id=run_id, path="notes/ui.txt"), None))
    assert b"".join(m.data for m in messages) == b"from the UI"

    models = artifacts.ListLoggedModelArtifacts(pb.ListLoggedModelArtifacts(model_id=model_id), None)
    assert models.root_uri.endswith(f"/models/{model_id}/artifacts")
    assert not models.files

    with pytest.raises(RunstashError) as unknown:
        artifacts.ListRunArtifacts(pb.ListRunArtifacts(run_id="0" * 32), None)
    assert unknown.value.code is ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_in_process_metadata_servicer(store: MetadataServicer, tmp_path: Path) -> None:
    metadata = store
    run_id, model_id = make_run_and_model(metadata, lambda rpc, req: rpc(req, None))
    destination = tmp_path / "artifacts"
    artifacts = build_servicer(str(destination), MetadataResolver.for_servicer(metadata), ArtifactSettings())
    exercise(artifacts, run_id, model_id, destination)


def test_metadata_service_over_grpc(tmp_path: Path) -> None:
    server = serve_metadata(f"sqlite:///{tmp_path / 'meta.db'}", "mlflow-artifacts:/", "127.0.0.1:0")
    channel = grpc.insecure_channel(f"127.0.0.1:{getattr(server, 'runstash_port')}")  # noqa: B009
    try:
        from runstash_protos.metadata_pb2_grpc import MetadataServiceStub

        run_id, model_id = make_run_and_model(
            MetadataServiceStub(channel), lambda rpc, req: rpc(req, timeout=10)
        )
        destination = tmp_path / "artifacts"
        resolver = MetadataResolver.for_channel(channel)
        exercise(
            build_servicer(str(destination), resolver, ArtifactSettings()), run_id, model_id, destination
        )
    finally:
        channel.close()
        server.stop(None).wait()
