"""Fixtures for the artifact service tests: storages on local disk and on SeaweedFS S3, and a real
gRPC artifact server with a resolver that knows a few runs and logged models.

The SeaweedFS server itself is the session-wide ``s3_endpoint`` fixture (tests/support/s3.py:
``weed mini`` with credentials, so signing is checked, on free ports, with a fresh bucket); each
test here gets its own key prefix in that bucket.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from runstash_artifacts.resolver import CallableResolver
from runstash_artifacts.server import RunningServer, start
from runstash_artifacts.settings import ArtifactSettings, TransferSettings
from runstash_artifacts.storage.base import ArtifactStorage
from runstash_artifacts.storage.local import LocalStorage
from runstash_artifacts.storage.s3 import S3Storage, make_s3_client
from runstash_artifacts.transfers import TransferPool
from runstash_protos.artifacts_pb2_grpc import ArtifactServiceStub
from runstash_protos.errors import not_found

SMALL_PART = 5 * 1024 * 1024  # the S3 minimum, so multi-part paths run with little data
# Small parts and ranges, several in flight: the parallel transfer paths run with little data.
SMALL_TRANSFERS = TransferSettings(
    part_size=SMALL_PART, parts_in_flight=3, range_size=1024 * 1024, ranges_ahead=3
)


def s3_env(monkeypatch: pytest.MonkeyPatch, endpoint: Any) -> None:
    """Point make_s3_client at the test endpoint the way an operator would: environment only."""
    for key in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", endpoint.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", endpoint.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", endpoint.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", endpoint.region)


@pytest.fixture
def s3_prefix() -> str:
    return f"t-{secrets.token_hex(6)}"


@pytest.fixture
def transfer_pool() -> Iterator[TransferPool]:
    pool = TransferPool(8)
    yield pool
    pool.close()


@pytest.fixture
def s3_storage(
    s3_endpoint: Any, s3_prefix: str, monkeypatch: pytest.MonkeyPatch, transfer_pool: TransferPool
) -> S3Storage:
    """S3 storage with parallel parts and ranged reads (as the service builds it), small sizes."""
    s3_env(monkeypatch, s3_endpoint)
    return S3Storage(
        make_s3_client(),
        s3_endpoint.bucket,
        s3_prefix,
        transfers=transfer_pool,
        settings=SMALL_TRANSFERS,
    )


@pytest.fixture
def artifact_dir(tmp_path: Path) -> Path:
    """The artifact root, with a sibling ``outside`` directory that must never be touched."""
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    return root


@pytest.fixture
def local_storage(artifact_dir: Path) -> LocalStorage:
    return LocalStorage(artifact_dir)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest) -> ArtifactStorage:
    """Each storage test runs on local disk and on SeaweedFS."""
    name = "local_storage" if request.param == "local" else "s3_storage"
    result: ArtifactStorage = request.getfixturevalue(name)
    return result


@dataclass
class Catalog:
    """What the metadata service would answer: run / logged-model id -> artifact URI."""

    runs: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)

    def resolver(self) -> CallableResolver:
        def run(run_id: str) -> str:
            if run_id not in self.runs:
                raise not_found(f"Run with id={run_id} not found")
            return self.runs[run_id]

        def model(model_id: str) -> str:
            if model_id not in self.models:
                raise not_found(f"Logged model with ID '{model_id}' not found.")
            return self.models[model_id]

        return CallableResolver(run, model)


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(
        runs={"run1": "mlflow-artifacts:/1/run1/artifacts", "run2": "mlflow-artifacts:/1/run2/artifacts"},
        models={"m-1": "mlflow-artifacts:/1/models/m-1/artifacts"},
    )


ServerFactory = Callable[..., RunningServer]


@pytest.fixture
def artifact_server() -> Iterator[ServerFactory]:
    """Starts real gRPC artifact servers on free loopback ports; stops them afterwards."""
    servers: list[RunningServer] = []

    def make(destination: str, catalog: Catalog | None = None, **settings: Any) -> RunningServer:
        server = start(
            destination,
            "127.0.0.1:0",
            catalog.resolver() if catalog is not None else None,
            # As an operator configures it (S3 endpoint, credentials: the environment), plus
            # what the test sets.
            settings=dataclasses.replace(ArtifactSettings.from_env(), **settings),
        )
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop(grace=None)


@pytest.fixture
def stub_for() -> Iterator[Callable[[RunningServer], ArtifactServiceStub]]:
    channels: list[grpc.Channel] = []

    def make(server: RunningServer) -> ArtifactServiceStub:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        grpc.channel_ready_future(channel).result(timeout=10)
        channels.append(channel)
        return ArtifactServiceStub(channel)

    yield make
    for channel in channels:
        channel.close()
