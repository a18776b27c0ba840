"""How a server process gets the registry: one servicer per tracking store (hooks for server.py
and the all-in-one wiring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runstash_protos import registry_pb2, registry_pb2_grpc

from runstash_metadata.registry.database import RegistryDatabase
from runstash_metadata.registry.servicer import ModelRegistryServicer
from runstash_metadata.store.sql_store import SqlTrackingStore

SERVICE_NAME: str = registry_pb2.DESCRIPTOR.services_by_name["ModelRegistryService"].full_name


def build_registry_servicer(store: SqlTrackingStore) -> ModelRegistryServicer:
    return ModelRegistryServicer(RegistryDatabase.of_store(store), [store.default_artifact_root])


def registry_registration(store: SqlTrackingStore) -> tuple[str, Callable[[Any], None]]:
    """``(service name, adder)`` for :func:`runstash_protos.rpc.service_server`."""
    servicer = build_registry_servicer(store)
    return SERVICE_NAME, lambda server: registry_pb2_grpc.add_ModelRegistryServiceServicer_to_server(
        servicer, server
    )
