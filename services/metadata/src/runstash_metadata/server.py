"""The metadata service as a gRPC server: servicer + error interceptor + health + reflection."""

from __future__ import annotations

import logging
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from runstash_protos import metadata_pb2, metadata_pb2_grpc
from runstash_protos.rpc import ErrorInterceptor

from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.store.sql_store import SqlTrackingStore

log = logging.getLogger("runstash.metadata")

SERVICE_NAME: str = metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"].full_name
DEFAULT_MAX_WORKERS = 32
# Batches of 1000 metrics with long keys exceed gRPC's 4 MiB default comfortably below this.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def build_server(
    store: SqlTrackingStore, address: str, *, max_workers: int = DEFAULT_MAX_WORKERS
) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) server bound to ``address``; returns it and the bound port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="metadata-rpc"),
        interceptors=[ErrorInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # A second server on a taken port must fail, not silently share it.
            ("grpc.so_reuseport", 0),
        ],
    )
    metadata_pb2_grpc.add_MetadataServiceServicer_to_server(MetadataServicer(store), server)

    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)

    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind the metadata service to {address}")
    return server, port


def serve(db_uri: str, default_artifact_root: str, address: str) -> grpc.Server:
    """Open the store (migrating it to head), start the server on ``address`` and return it.

    Not blocking: call ``server.wait_for_termination()`` to block, ``server.stop(grace)`` to stop.
    The bound port (useful with ``127.0.0.1:0``) is available as ``server.runstash_port``.
    """
    store = SqlTrackingStore(db_uri, default_artifact_root)
    server, port = build_server(store, address)
    server.start()
    server.runstash_port = port  # type: ignore[attr-defined]
    log.info("metadata service listening on %s (port %d)", address, port)
    return server


def run_forever(db_uri: str, default_artifact_root: str, address: str) -> None:
    """Blocking entry point for ``runstash metadata``."""
    server = serve(db_uri, default_artifact_root, address)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=5).wait()
