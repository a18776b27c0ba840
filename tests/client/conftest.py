"""Servers with their gRPC port open, and the stock mlflow client with the runstash plugin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from tests.client.plugin_venv import PluginClientRunner, plugin_python
from tests.conftest import free_port

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, RunningServer, ServerLauncher


@dataclass(frozen=True)
class GrpcServer:
    """`runstash server --grpc-port`: REST at ``http_url``, gRPC at ``target``."""

    server: RunningServer
    target: str
    backend_uri: str

    @property
    def http_url(self) -> str:
        return self.server.url

    @property
    def runstash_uri(self) -> str:
        return f"runstash://{self.target}"


@pytest.fixture(scope="session")
def grpc_server(
    db_kind: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GrpcServer]:
    db = database_factory.create(db_kind)
    port = free_port()
    server = server_launcher.single(
        db.uri,
        str(tmp_path_factory.mktemp(f"grpc-artifacts-{db_kind}")),
        extra_args=["--grpc-port", str(port)],
        label=f"grpc-{db_kind}",
    )
    yield GrpcServer(server, f"127.0.0.1:{port}", db.uri)
    server_launcher.stop(server)


@pytest.fixture(scope="session")
def plugin_client(tmp_path_factory: pytest.TempPathFactory) -> PluginClientRunner:
    return PluginClientRunner(plugin_python(), tmp_path_factory.mktemp("plugin-client"))
