"""Wiring runstash's deployments from one ServerConfig.

- all in one (`runstash server`): the gateway calls the metadata and artifact servicers in-process
  (no network hop); with ``--workers N`` every uvicorn worker builds its own servicers, since the
  services are stateless and share only the database and the artifact store;
- each service alone (`runstash metadata`, `runstash artifacts`, `runstash gateway`): the same
  servicers behind gRPC servers, and a gateway that reaches them over the network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from runstash.config import MLFLOW_API_VERSION, runstash_version
from runstash_protos.transport import channel

from runstash_server.config import CONFIG_ENV, ServerConfig

log = logging.getLogger("runstash")

METADATA_SERVICE = "runstash.metadata.MetadataService"
ARTIFACT_SERVICE = "runstash.artifacts.ArtifactService"
REGISTRY_SERVICE = "runstash.registry.ModelRegistryService"
MODEL_VERSION_FILES = "runstash.registry.ModelVersionArtifactService"
TRACE_SERVICE = "runstash.traces.TraceService"
# Default artifact roots the artifact service can open itself (besides plain local paths).
_READABLE_ROOTS = ("s3://", "file://")


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A missing or unreachable database at start-up: one line and a non-zero exit, no traceback."""
    from runstash_metadata.store.database import DatabaseNotFound
    from runstash_protos.errors import ErrorCode, RunstashError

    try:
        yield
    except DatabaseNotFound as exc:
        raise SystemExit(f"runstash: {exc}") from None
    except RunstashError as exc:
        if exc.code != ErrorCode.TEMPORARILY_UNAVAILABLE:
            raise
        cause = exc.__cause__
        detail = (
            str(cause).strip().splitlines()[0] if cause is not None and str(cause).strip() else exc.message
        )
        raise SystemExit(f"runstash: cannot reach the database: {detail}") from None


def close_servicers(servicers: dict[str, Any]) -> None:
    """Release what the servicers hold (database connections: SQLite then leaves no -wal/-shm)."""
    for name, servicer in servicers.items():
        close = getattr(servicer, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing %s failed", name)


def _logging() -> None:
    from runstash_protos.telemetry import configure_logging

    configure_logging()  # text, or JSON lines with request ids (RUNSTASH_LOG_FORMAT)
    # Alembic narrates every plugin and no-op check at INFO; only real migrations are worth a line.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def build_servicers(config: ServerConfig) -> dict[str, Any]:
    """The servicer objects this process serves, keyed by full service name."""
    from runstash_artifacts.resolver import MetadataResolver
    from runstash_artifacts.servicer import build_servicer
    from runstash_artifacts.settings import ArtifactSettings
    from runstash_metadata.identity.wiring import secure_servicers

    servicers: dict[str, Any] = {}
    resolver = None
    tracking = None
    if config.serves_tracking:
        from runstash_metadata.registry.wiring import build_registry_servicer
        from runstash_metadata.servicer import MetadataServicer
        from runstash_metadata.settings import MetadataSettings

        metadata = MetadataServicer.open(
            MetadataSettings.from_env(config.backend_store_uri, config.artifact_root)
        )
        servicers[METADATA_SERVICE] = metadata
        tracking = metadata.db
        servicers[REGISTRY_SERVICE] = build_registry_servicer(metadata)
        from runstash_metadata.tracing.wiring import build_trace_servicer

        servicers[TRACE_SERVICE] = build_trace_servicer(metadata)
        resolver = MetadataResolver.for_servicer(metadata)
    elif config.metadata_address:
        resolver = MetadataResolver.for_channel(channel(config.metadata_address))
    settings = ArtifactSettings.from_env()
    own_root = config.artifact_root
    if not own_root.startswith("mlflow-artifacts:"):
        # Runs under the server's own default root (s3://… or a local folder) are readable too.
        settings = dataclasses.replace(settings, trusted_roots=(*settings.trusted_roots, own_root))
    if config.serves_artifacts:
        servicers[ARTIFACT_SERVICE] = build_servicer(config.artifacts_destination, resolver, settings)
        if REGISTRY_SERVICE in servicers:
            from runstash_artifacts.model_versions import in_process_model_version_files as files

            servicers[MODEL_VERSION_FILES] = files(servicers[ARTIFACT_SERVICE], servicers[REGISTRY_SERVICE])
    elif config.serves_tracking and (own_root.startswith(_READABLE_ROOTS) or "://" not in own_root):
        # --no-serve-artifacts: the proxy routes are off (the gateway answers 503), but the UI's
        # run-scoped routes still read runs' artifacts under the default root, as mlflow does.
        servicers[ARTIFACT_SERVICE] = build_servicer(own_root, resolver, settings)
    return secure_servicers(servicers, tracking)


def in_process_backends() -> Any:
    """Backends factory for gateway worker processes (`--workers > 1`): config from the environment."""
    from runstash_gateway import GatewayBackends

    servicers = build_servicers(ServerConfig.from_env())
    return GatewayBackends.in_process(servicers, on_close=functools.partial(close_servicers, servicers))


def _gateway_config(config: ServerConfig, **extra: Any) -> Any:
    from runstash_gateway import GatewayConfig

    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "workers": config.workers,
        "serve_artifacts": config.serves_artifacts,
        "artifacts_only": config.artifacts_only,
        "multipart_uploads_enabled": config.multipart_uploads,
        "multipart_downloads_enabled": config.multipart_downloads,
        "static_prefix": config.static_prefix,
        "disable_security_middleware": config.disable_security_middleware,
        "x_frame_options": config.x_frame_options,
        "allowed_hosts": config.allowed_hosts,
        "access_log": config.access_log,
        "server_version": MLFLOW_API_VERSION,
        "runstash_version": runstash_version(),
    }
    if config.cors_allowed_origins:
        options["cors_allowed_origins"] = config.cors_allowed_origins
    ui_dir = os.environ.get("RUNSTASH_UI_DIR")
    if ui_dir:
        options["ui_dist"] = ui_dir
    options.update(extra)
    return GatewayConfig(**options)


def _grpc_server(servicers: dict[str, Any], address: str) -> grpc.Server:
    """Expose in-process servicers over gRPC too (`--grpc-port`) for the runstash client."""
    from runstash_protos import artifacts_pb2_grpc, auth_pb2_grpc, metadata_pb2_grpc, registry_pb2_grpc
    from runstash_protos.rpc import Registration, service_server

    adders: dict[str, Callable[[Any, grpc.Server], None]] = {
        METADATA_SERVICE: metadata_pb2_grpc.add_MetadataServiceServicer_to_server,
        ARTIFACT_SERVICE: artifacts_pb2_grpc.add_ArtifactServiceServicer_to_server,
        "runstash.auth.AuthService": auth_pb2_grpc.add_AuthServiceServicer_to_server,
        REGISTRY_SERVICE: registry_pb2_grpc.add_ModelRegistryServiceServicer_to_server,
        MODEL_VERSION_FILES: registry_pb2_grpc.add_ModelVersionArtifactServiceServicer_to_server,
    }
    if TRACE_SERVICE in servicers:
        from runstash_metadata.tracing.wiring import add_trace_service

        adders[TRACE_SERVICE] = add_trace_service
    services: list[Registration] = [
        (name, functools.partial(adders[name], servicer)) for name, servicer in servicers.items()
    ]
    if METADATA_SERVICE in servicers:
        from runstash_metadata.ingest_servicer import IngestServicer, add_to_server

        services.append(add_to_server(IngestServicer(servicers[METADATA_SERVICE])))
    server, _ = service_server(services, address, thread_name_prefix="grpc")
    server.start()
    return server


def serve_all_in_one(config: ServerConfig) -> None:
    from runstash_gateway import GatewayBackends, run

    _logging()
    os.environ[CONFIG_ENV] = config.to_env()
    if config.workers > 1:
        if config.serves_tracking:
            # Migrate once here, so the workers never race each other on a fresh database.
            from runstash_metadata.store.database import Database

            with database_errors():
                Database.open(config.backend_store_uri).close()
        if config.grpc_port is not None:
            raise SystemExit("--grpc-port needs --workers 1 (or run `runstash metadata` for gRPC clients)")
        run(_gateway_config(config, backends_factory="runstash_server.serve:in_process_backends"))
        return
    with database_errors():
        servicers = build_servicers(config)
    grpc_server = None
    if config.grpc_port is not None:
        grpc_server = _grpc_server(servicers, f"{config.host}:{config.grpc_port}")
        log.info("gRPC services on %s:%d", config.host, config.grpc_port)
    try:
        # The gateway closes the servicers at its shutdown: uvicorn re-raises the stopping signal
        # once it is done, so nothing after run() is sure to execute.
        on_close = functools.partial(close_servicers, servicers)
        run(_gateway_config(config), GatewayBackends.in_process(servicers, on_close=on_close))
    finally:
        if grpc_server is not None:
            grpc_server.stop(grace=2)


def _wait(server: grpc.Server) -> None:
    def stop(*_: object) -> None:
        server.stop(grace=5)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=5).wait()


def _metrics_port(config: ServerConfig) -> None:
    """A split service's own /metrics endpoint (``--metrics-port``), on the service's host."""
    port = os.environ.get("RUNSTASH_METRICS_PORT")
    if port:
        from runstash_protos.metrics import serve_metrics

        serve_metrics(config.host, int(port))


def serve_metadata(config: ServerConfig, address: str) -> None:
    from runstash_metadata.server import serve

    _logging()
    _metrics_port(config)
    with database_errors():
        server = serve(config.backend_store_uri, config.artifact_root, address)
    try:
        _wait(server)
    finally:
        server.runstash_servicer.close()  # type: ignore[attr-defined]


def serve_artifacts(config: ServerConfig, address: str) -> None:
    from runstash_artifacts.model_versions import remote_model_version_files
    from runstash_artifacts.resolver import MetadataResolver
    from runstash_artifacts.server import serve
    from runstash_artifacts.settings import ArtifactSettings

    _logging()
    _metrics_port(config)
    resolver = authority = None
    if config.metadata_address:
        resolver = MetadataResolver.for_channel(channel(config.metadata_address))
    if os.environ.get("RUNSTASH_AUTH", "").lower() in ("1", "true", "yes", "on"):
        from runstash_protos.authz_remote import RemoteAuthority

        if not config.metadata_address:
            raise SystemExit("with auth on, the artifact service needs --metadata (it decides permissions)")
        authority = RemoteAuthority(channel(config.metadata_address))
    settings = ArtifactSettings.from_env()
    extra = (
        remote_model_version_files(config.metadata_address, authority) if config.metadata_address else None
    )
    _wait(
        serve(
            config.artifacts_destination,
            address,
            resolver,
            settings=settings,
            authority=authority,
            extra=extra,
        )
    )


def serve_gateway(config: ServerConfig) -> None:
    from runstash_gateway import run

    _logging()
    if config.metadata_address is None:
        raise SystemExit("runstash gateway needs --metadata host:port")
    targets: tuple[tuple[str, ...], ...] = ((config.metadata_address,),)
    if config.artifacts_addresses:
        targets += (config.artifacts_addresses,)
    run(_gateway_config(config, remote_targets=targets))
