"""How a server process gets the registry: one servicer beside the metadata servicer, on its
database (hooks for server.py and the all-in-one wiring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runstash_protos import registry_pb2, registry_pb2_grpc

from runstash_metadata.registry.servicer import ModelRegistryServicer
from runstash_metadata.servicer import MetadataServicer

REGISTRY_SERVICE: str = registry_pb2.DESCRIPTOR.services_by_name["ModelRegistryService"].full_name


def build_registry_servicer(metadata: MetadataServicer) -> ModelRegistryServicer:
    return ModelRegistryServicer(metadata.db, [metadata.settings.default_artifact_root])


def registry_registration(metadata: MetadataServicer) -> tuple[str, Callable[[Any], None]]:
    """``(service name, adder)`` for :func:`runstash_protos.rpc.service_server`."""
    servicer = build_registry_servicer(metadata)
    return REGISTRY_SERVICE, lambda server: registry_pb2_grpc.add_ModelRegistryServiceServicer_to_server(
        servicer, server
    )
