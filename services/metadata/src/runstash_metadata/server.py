"""The metadata service as a gRPC server: servicer + error interceptor + health + reflection."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, cast

import grpc
from runstash_protos import metadata_pb2, metadata_pb2_grpc
from runstash_protos.rpc import service_server

from runstash_metadata.ingest_servicer import IngestServicer, add_to_server
from runstash_metadata.registry.wiring import REGISTRY_SERVICE, build_registry_servicer
from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.settings import MetadataSettings
from runstash_metadata.tracing.wiring import TRACE_SERVICE, add_trace_service, build_trace_servicer

log = logging.getLogger("runstash.metadata")

SERVICE_NAME: str = metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"].full_name
DEFAULT_MAX_WORKERS = 32


def build_server(
    servicer: MetadataServicer, address: str, *, max_workers: int = DEFAULT_MAX_WORKERS
) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) server bound to ``address``; returns it and the bound port."""
    from runstash_protos import auth_pb2_grpc, registry_pb2_grpc

    from runstash_metadata.identity.wiring import AUTH_SERVICE, secure_servicers

    servicers = secure_servicers(
        {
            SERVICE_NAME: servicer,
            REGISTRY_SERVICE: build_registry_servicer(servicer),
            TRACE_SERVICE: build_trace_servicer(servicer),
        },
        servicer.db,
    )
    adders: dict[str, Callable[[Any, grpc.Server], None]] = {
        SERVICE_NAME: metadata_pb2_grpc.add_MetadataServiceServicer_to_server,
        AUTH_SERVICE: auth_pb2_grpc.add_AuthServiceServicer_to_server,
        REGISTRY_SERVICE: registry_pb2_grpc.add_ModelRegistryServiceServicer_to_server,
        TRACE_SERVICE: add_trace_service,
    }
    return service_server(
        [
            *((name, functools.partial(adders[name], guarded)) for name, guarded in servicers.items()),
            # Each batch of the stream is written through the guarded LogBatch: checked per run.
            add_to_server(IngestServicer(cast(MetadataServicer, servicers[SERVICE_NAME]))),
        ],
        address,
        max_workers=max_workers,
        thread_name_prefix="metadata-rpc",
    )


def serve(db_uri: str, default_artifact_root: str, address: str) -> grpc.Server:
    """Open the store (migrating it to head), start the server on ``address`` and return it.

    Not blocking: call ``server.wait_for_termination()`` to block, ``server.stop(grace)`` to stop.
    The bound port (useful with ``127.0.0.1:0``) is available as ``server.runstash_port``, the
    servicer as ``server.runstash_servicer`` (close it after the server stopped).
    """
    servicer = MetadataServicer.open(MetadataSettings.from_env(db_uri, default_artifact_root))
    server, port = build_server(servicer, address)
    server.start()
    server.runstash_port = port  # type: ignore[attr-defined]
    server.runstash_servicer = servicer  # type: ignore[attr-defined]
    log.info("metadata service listening on %s (port %d)", address, port)
    return server


def run_forever(db_uri: str, default_artifact_root: str, address: str) -> None:
    """Blocking entry point for ``runstash metadata``."""
    server = serve(db_uri, default_artifact_root, address)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=5).wait()
    finally:
        server.runstash_servicer.close()  # type: ignore[attr-defined]
