"""The artifact service as a standalone gRPC server: servicer + health + reflection + error mapping."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from runstash_protos import artifacts_pb2
from runstash_protos.artifacts_pb2_grpc import add_ArtifactServiceServicer_to_server
from runstash_protos.authz import Authority, guard_servicer
from runstash_protos.rpc import Registration, service_server

from runstash_artifacts.resolver import ArtifactRootResolver
from runstash_artifacts.servicer import SERVICE_NAME, ArtifactServicer, build_servicer
from runstash_artifacts.settings import ArtifactSettings

log = logging.getLogger("runstash.artifacts")

# Every streamed transfer holds one worker thread for its duration.
DEFAULT_MAX_WORKERS = 32


@dataclass(frozen=True, slots=True)
class RunningServer:
    server: grpc.Server
    port: int
    servicer: ArtifactServicer

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace).wait()
        self.servicer.close()


def start(
    destination: str,
    address: str,
    resolver: ArtifactRootResolver | None = None,
    *,
    settings: ArtifactSettings | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    authority: Authority | None = None,
    extra: Callable[[ArtifactServicer], list[Registration]] | None = None,
) -> RunningServer:
    """Build the servicer for ``destination`` and serve it on ``address`` (``host:0`` = a free port);
    ``extra`` adds services built on that servicer (the model-version file route)."""
    servicer = build_servicer(destination, resolver, settings)
    descriptor = artifacts_pb2.DESCRIPTOR.services_by_name["ArtifactService"]
    guarded: Any = guard_servicer(servicer, descriptor, authority)  # enforced with auth on
    server, port = service_server(
        [
            (SERVICE_NAME, lambda server: add_ArtifactServiceServicer_to_server(guarded, server)),
            *(extra(servicer) if extra else []),
        ],
        address,
        max_workers=max_workers,
        thread_name_prefix="artifacts",
    )
    server.start()
    log.info("artifact service on port %d, destination %s", port, servicer.destination.uri())
    return RunningServer(server, port, servicer)


def serve(
    destination: str,
    address: str,
    resolver: ArtifactRootResolver | None = None,
    *,
    settings: ArtifactSettings | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    authority: Authority | None = None,
    extra: Callable[[ArtifactServicer], list[Registration]] | None = None,
) -> grpc.Server:
    """Start the artifact service (for ``runstash artifacts``); the caller waits on / stops it.

    The bound port (useful with ``127.0.0.1:0``) is ``server.runstash_port``, as for the metadata
    service.
    """
    running = start(
        destination,
        address,
        resolver,
        settings=settings,
        max_workers=max_workers,
        authority=authority,
        extra=extra,
    )
    running.server.runstash_port = running.port  # type: ignore[attr-defined]
    return running.server
