"""The route table, built once at start-up from what each backend lists by reflection.

Every service a backend offers is served, with no gateway change: each method's
``google.api.http`` rules (additional bindings included) become routes whose handler is chosen
here, once, from the RPC's shape.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from runstash_protos.errors import ErrorCode, RunstashError

from .backends import Backend, RpcMethod
from .config import GatewayConfig
from .descriptors import HttpBinding, ReflectedService, reflect_services
from .handlers import RouteTarget, choose_handler
from .routing import Router
from .transcoder import CodecRegistry

log = logging.getLogger("runstash.gateway")


@dataclass(slots=True)
class RouteTable:
    router: Router[RouteTarget]
    # The artifact service's GetArtifactCapabilities, when some backend offers it.
    capabilities: tuple[Backend, RpcMethod] | None


async def build_routes(backends: tuple[Backend, ...], config: GatewayConfig) -> RouteTable:
    """Start the backends and route every reflected method (a service offered twice: the first)."""
    router: Router[RouteTarget] = Router()
    claimed: dict[str, str] = {}
    capabilities: tuple[Backend, RpcMethod] | None = None
    for backend in backends:
        await backend.start()
        registry = CodecRegistry(backend.message_class)
        for service in await _reflect_with_retry(backend, config.startup_timeout_s):
            if service.name in claimed:
                log.warning(
                    "service %s offered by %s and %s; using the first",
                    service.name,
                    claimed[service.name],
                    backend.label,
                )
                continue
            claimed[service.name] = backend.label
            if service.capabilities is not None and capabilities is None:
                capabilities = (backend, service.capabilities)
            for method in service.methods:
                for binding in method.bindings:
                    _add_route(router, registry, backend, method.rpc, binding, config=config)
    log.info("gateway routes: %d from %s", sum(1 for _ in router.routes()), ", ".join(claimed))
    return RouteTable(router, capabilities)


async def _reflect_with_retry(backend: Backend, timeout_s: float) -> list[ReflectedService]:
    """Split deployments may start the gateway before its services: wait for them, bounded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    delay = 0.1
    while True:
        try:
            return await reflect_services(backend)
        except RunstashError as exc:
            if exc.code != ErrorCode.TEMPORARILY_UNAVAILABLE or loop.time() + delay > deadline:
                raise
            log.info("waiting for %s: %s", backend.label, exc.message)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def _add_route(
    router: Router[RouteTarget],
    registry: CodecRegistry,
    backend: Backend,
    rpc: RpcMethod,
    binding: HttpBinding,
    *,
    config: GatewayConfig,
) -> None:
    codec = registry.codec(rpc.request_class)
    response = registry.codec(rpc.response_class)
    try:
        handler = choose_handler(rpc, binding, codec, response)
    except ValueError as exc:
        log.warning("skipping route %s %s: %s", binding.http_method, binding.template, exc)
        return
    body_field = None
    if binding.body not in ("", "*"):
        body_field = codec.field(binding.body)
        if body_field is None:
            log.warning("skip %s %s: no field %r", binding.http_method, binding.template, binding.body)
            return
    headers_field = response.field("headers")
    is_unary = not (rpc.client_streaming or rpc.server_streaming)
    target = RouteTarget(
        handle=handler,
        http_method=binding.http_method,
        template=binding.template,
        rpc=rpc,
        backend=backend,
        request_codec=codec,
        response_codec=response,
        body=binding.body,
        body_field=body_field,
        response_body=binding.response_body,
        check_content_type=is_unary and binding.http_method in ("POST", "PUT") and bool(binding.body),
        has_headers_field=headers_field is not None and headers_field.is_map,
        config=config,
    )
    router.add(binding.http_method, binding.template, target)
