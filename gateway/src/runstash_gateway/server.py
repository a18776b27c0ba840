"""Building and serving the gateway: ``build_app``, ``create_gateway``, ``run`` and the worker factory."""

from __future__ import annotations

import importlib
import logging
import os

import uvicorn
from runstash_protos.telemetry import configure_logging, json_logs

from .app import Gateway
from .auth import https_options
from .backends import GatewayBackends
from .config import GatewayConfig

log = logging.getLogger("runstash.gateway")

CONFIG_ENV = "RUNSTASH_GATEWAY_CONFIG"


def build_app(backends: GatewayBackends, config: GatewayConfig | None = None) -> Gateway:
    """The ASGI app; routes are built from reflection at ASGI lifespan start-up (or first request)."""
    return Gateway(backends, config or GatewayConfig())


async def create_gateway(backends: GatewayBackends, config: GatewayConfig | None = None) -> Gateway:
    """Like :func:`build_app`, but reflects and builds the routes now (inside the running loop)."""
    app = build_app(backends, config)
    await app.start()
    return app


def _import_factory(spec: str) -> GatewayBackends:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"backends_factory must look like 'package.module:callable', got {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    backends = factory()
    if not isinstance(backends, GatewayBackends):
        raise TypeError(f"{spec} returned {type(backends).__name__}, not GatewayBackends")
    return backends


def backends_from_config(config: GatewayConfig) -> GatewayBackends:
    """What a worker process fronts: the factory's backends, or the configured remote targets."""
    if config.backends_factory:
        return _import_factory(config.backends_factory)
    if config.remote_targets:
        return GatewayBackends.remote(*config.remote_targets)
    raise ValueError("GatewayConfig needs backends_factory or remote_targets to build backends in a worker")


def worker_app() -> Gateway:
    """uvicorn app factory for ``--workers > 1`` (``runstash_gateway.server:worker_app``)."""
    raw = os.environ.get(CONFIG_ENV)
    if raw is None:
        raise RuntimeError(f"{CONFIG_ENV} is not set; start workers through runstash_gateway.run()")
    config = GatewayConfig.from_json(raw)
    configure_logging()  # a spawned worker starts without the parent's log handlers
    return build_app(backends_from_config(config), config)


def _uvicorn_kwargs(config: GatewayConfig) -> dict[str, object]:
    return {
        "host": config.host,
        "port": config.port,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "none",
        "lifespan": "on",
        "access_log": False,  # the gateway's own AccessLog middleware writes the access log
        "server_header": False,
        "log_level": config.log_level,
        # JSON logs: uvicorn's own lines go through the root handler's format too.
        **({"log_config": None} if json_logs() else {}),
        "timeout_keep_alive": 30,
        **https_options(),  # --ssl-certfile/--ssl-keyfile
    }


def uvicorn_config(config: GatewayConfig, backends: GatewayBackends | None = None) -> uvicorn.Config:
    """A single-process uvicorn.Config serving the gateway (handy for embedding and tests)."""
    app = build_app(backends if backends is not None else backends_from_config(config), config)
    return uvicorn.Config(app, **_uvicorn_kwargs(config))  # type: ignore[arg-type]


def run(config: GatewayConfig, backends: GatewayBackends | None = None) -> None:
    """Serve until interrupted.

    ``workers == 1``: serves ``backends`` (or the ones the config describes) in this process.
    ``workers > 1``: uvicorn forks workers that each import ``worker_app``; the config travels in
    the environment and must name how to build backends (``backends_factory`` or ``remote_targets``),
    since live servicer objects cannot cross a process boundary.
    """
    if config.workers <= 1:
        uvicorn.Server(uvicorn_config(config, backends)).run()
        return
    if not config.backends_factory and not config.remote_targets:
        raise ValueError("workers > 1 needs GatewayConfig.backends_factory or remote_targets")
    os.environ[CONFIG_ENV] = config.to_json().decode()
    uvicorn.run(
        "runstash_gateway.server:worker_app",
        factory=True,
        workers=config.workers,
        **_uvicorn_kwargs(config),  # type: ignore[arg-type]
    )
