"""runstash HTTP gateway: MLflow REST (JSON over HTTP) in front of the runstash gRPC services.

The route table is not written by hand: at start-up the gateway asks each backend for its services
over gRPC server reflection and serves every method's ``google.api.http`` rule (additional bindings
included, so ``/api/...`` and ``/ajax-api/...`` both come from the protos). JSON is transcoded with
MLflow's conventions (see :mod:`runstash_gateway.transcoder`); byte-stream RPCs (artifact upload and
download) are streamed in ~1 MiB chunks.

Modules: ``app`` (the ASGI app, life cycle, the one error boundary), ``middleware`` (access log,
response headers, Host check, CORS, static prefix), ``security`` (strict Host/Origin matching),
``quirks`` (what `mlflow server` does that no protobuf rule says), ``routes`` (the route table from
reflection), ``handlers`` (unary, upload, download: one handler per route kind), ``body`` (request
bodies bounded in size and time), ``transcoder``/``fields``/``scalars`` (JSON <-> protobuf),
``backends`` (``in_process``, ``remote``), ``descriptors``, ``routing``, ``static``, ``config``,
``server``.

Public API::

    from runstash_gateway import GatewayBackends, GatewayConfig, InProcessBackend, RemoteBackend
    from runstash_gateway import build_app, create_gateway, run

    # all in one process: servicer objects called on a thread pool
    backends = GatewayBackends.in_process({
        "runstash.metadata.MetadataService": metadata_servicer,
        "runstash.artifacts.ArtifactService": artifact_servicer,
    })
    # split deployment: one RemoteBackend per service group, replicas round-robin
    backends = GatewayBackends.remote(["127.0.0.1:7001"], ["10.0.0.5:7002", "10.0.0.6:7002"])
    # or mix: GatewayBackends.of(InProcessBackend({...}), RemoteBackend(["host:port"]))

    config = GatewayConfig(host="127.0.0.1", port=5000, serve_artifacts=True)
    run(config, backends)              # uvicorn (uvloop + httptools) until interrupted
    app = build_app(backends, config)  # ASGI app; routes are built at lifespan start-up
    app = await create_gateway(backends, config)  # ASGI app with routes already built

    # --workers > 1: each worker process builds its own backends from the config
    run(GatewayConfig(workers=4, remote_targets=(("127.0.0.1:7001",), ("127.0.0.1:7002",))))
    run(GatewayConfig(workers=4, backends_factory="mypkg.wiring:make_backends"))

Also served: ``/health``, ``/version``, ``/api/3.0/mlflow/server-info`` (+ ajax mirror; flags from
the config, overridden by the artifact service's GetArtifactCapabilities when it answers) and the
built web UI from ``gateway/ui/dist``.

What services may read from a call: the ``x-runstash-present-empty`` metadata entry lists the
top-level repeated fields a JSON body gave as ``[]`` (protobuf cannot tell them from absent ones).
"""

from .app import Gateway
from .backends import Backend, GatewayBackends, InProcessBackend, RemoteBackend, RpcMethod
from .config import GatewayConfig
from .server import build_app, create_gateway, run, uvicorn_config, worker_app

__all__ = [
    "Backend",
    "Gateway",
    "GatewayBackends",
    "GatewayConfig",
    "InProcessBackend",
    "RemoteBackend",
    "RpcMethod",
    "build_app",
    "create_gateway",
    "run",
    "uvicorn_config",
    "worker_app",
]
