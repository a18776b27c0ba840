"""Fixtures shared by every test suite, all real components (no mocks); see tests/README.md.

The fixtures live in ``tests/support/``, one module per job, loaded here as plugins:

* ``selection``: ``--dbs`` / ``RUNSTASH_TEST_DBS`` (default ``sqlite,postgresql,mysql``) and
  ``--deployments`` / ``RUNSTASH_TEST_DEPLOYMENTS`` (default ``single,split``) parametrize the
  session-scoped ``db_kind`` and ``deployment``;
* ``databases``: ``database_factory`` (a fresh SQLite file / PostgreSQL / MariaDB database per
  ``create(kind)``, all dropped at session end) and ``database`` (one of ``db_kind``);
* ``s3``: ``s3_endpoint``, a throwaway SeaweedFS S3 server with one bucket;
* ``servers``: ``server_launcher`` (``runstash server`` or the split deployment on free ports,
  health polled with a bound, process trees killed afterwards) and ``runstash_server`` (one per
  ``(db_kind, deployment)``, local-disk artifacts);
* ``reference``: ``reference_server_launcher``, the real ``mlflow server`` from .venv-mlflow;
* ``mlflow_client``: runs a script with the stock mlflow client and returns what it ``emit``-ted;
* ``reports``: a failing test that used a server gets the tail of that server's log.

With ``RUNSTASH_USE_TESTCONTAINERS=1`` and a working ``docker info``, PostgreSQL, MariaDB and S3
(MinIO) come from testcontainers instead of the local services.

The helpers and types below are re-exported so that ``from tests.conftest import ...`` keeps
working; new code may import them from ``tests.support`` directly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.databases import Database, DatabaseFactory
    from tests.support.health import grpc_serving, http_ok, wait_until
    from tests.support.layout import CLIENT_VENV, REPO_ROOT, SERVER_VENV
    from tests.support.mlflow_client import ClientResult, MlflowClientRunner, client_python
    from tests.support.ports import free_port, free_port_with_grpc_twin
    from tests.support.processes import ManagedProcess, tail
    from tests.support.reference import ReferenceServerLauncher
    from tests.support.s3 import S3Endpoint, run_seaweedfs
    from tests.support.selection import ALL_DBS, ALL_DEPLOYMENTS
    from tests.support.servers import (
        PortInUseError,
        RunningServer,
        ServerLauncher,
        runstash_executable,
        server_env,
    )

# A plugin imported by another one comes first, so that pytest imports it with assertion rewriting.
pytest_plugins = [
    "tests.support.selection",
    "tests.support.databases",
    "tests.support.mlflow_client",
    "tests.support.s3",
    "tests.support.servers",
    "tests.support.reference",
    "tests.support.reports",
]

__all__ = [
    "ALL_DBS",
    "ALL_DEPLOYMENTS",
    "CLIENT_VENV",
    "REPO_ROOT",
    "SERVER_VENV",
    "ClientResult",
    "Database",
    "DatabaseFactory",
    "ManagedProcess",
    "MlflowClientRunner",
    "PortInUseError",
    "ReferenceServerLauncher",
    "RunningServer",
    "S3Endpoint",
    "ServerLauncher",
    "client_python",
    "free_port",
    "free_port_with_grpc_twin",
    "grpc_serving",
    "http_ok",
    "run_seaweedfs",
    "runstash_executable",
    "server_env",
    "tail",
    "wait_until",
]

# Imported on first use: importing the plugin modules here, before pytest loads them through
# pytest_plugins, would keep pytest from rewriting their assertions (a warning, so an error).
_REEXPORTED_FROM = {
    "ALL_DBS": "tests.support.selection",
    "ALL_DEPLOYMENTS": "tests.support.selection",
    "CLIENT_VENV": "tests.support.layout",
    "ClientResult": "tests.support.mlflow_client",
    "Database": "tests.support.databases",
    "DatabaseFactory": "tests.support.databases",
    "ManagedProcess": "tests.support.processes",
    "MlflowClientRunner": "tests.support.mlflow_client",
    "PortInUseError": "tests.support.servers",
    "REPO_ROOT": "tests.support.layout",
    "ReferenceServerLauncher": "tests.support.reference",
    "RunningServer": "tests.support.servers",
    "S3Endpoint": "tests.support.s3",
    "SERVER_VENV": "tests.support.layout",
    "ServerLauncher": "tests.support.servers",
    "client_python": "tests.support.mlflow_client",
    "free_port": "tests.support.ports",
    "free_port_with_grpc_twin": "tests.support.ports",
    "grpc_serving": "tests.support.health",
    "http_ok": "tests.support.health",
    "run_seaweedfs": "tests.support.s3",
    "runstash_executable": "tests.support.servers",
    "server_env": "tests.support.servers",
    "tail": "tests.support.processes",
    "wait_until": "tests.support.health",
}


def __getattr__(name: str) -> Any:
    module = _REEXPORTED_FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
