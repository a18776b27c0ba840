"""A runstash deployment per (db_kind, deployment) whose gRPC port is known, for the trace tests:
OTLP/gRPC goes to `runstash server --grpc-port` (single) or to the metadata service (split)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.ports import free_port
from tests.support.servers import RunningServer, ServerLauncher


@dataclass(frozen=True)
class TraceServer:
    server: RunningServer
    grpc_address: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def trace_server(
    db_kind: str,
    deployment: str,
    database_factory: DatabaseFactory,
    server_launcher: ServerLauncher,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TraceServer]:
    db = database_factory.create(db_kind)
    artifacts = str(tmp_path_factory.mktemp(f"trace-artifacts-{db_kind}-{deployment}"))
    label = f"traces-{deployment}-{db_kind}"
    if deployment == "single":
        port = free_port()
        server = server_launcher.single(db.uri, artifacts, extra_args=["--grpc-port", str(port)], label=label)
        address = f"127.0.0.1:{port}"
    else:
        server = server_launcher.split(db.uri, artifacts, label=label, artifact_replicas=1)
        metadata = next(p for p in server.processes if p.name.startswith("metadata"))
        args = [str(a) for a in metadata.popen.args]  # type: ignore[union-attr]
        address = f"127.0.0.1:{args[args.index('--port') + 1]}"
    yield TraceServer(server, address)
    server_launcher.stop(server)
