"""Fetch the services' descriptors over gRPC server reflection and read their google.api.http rules.

Reflection (v1alpha): ``list_services``, then ``file_containing_symbol`` for each service, then
``file_by_filename`` for any dependency not yet seen. The files go into a fresh DescriptorPool
(dependencies first); the http rules are read from the FileDescriptorProtos' method options, which
parse the ``google.api.http`` extension because ``google.api.annotations_pb2`` is imported here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped]
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2
from runstash_protos.errors import ErrorCode, RunstashError

from .backends import Backend, RpcMethod

log = logging.getLogger("runstash.gateway")

# Infrastructure services every gRPC server may expose; never routed.
_SKIPPED_PREFIXES = ("grpc.reflection.", "grpc.health.", "grpc.channelz.")
CAPABILITIES_METHOD = "GetArtifactCapabilities"


@dataclass(frozen=True, slots=True)
class HttpBinding:
    """One (method, path) pair of a rule, with its body selectors."""

    http_method: str
    template: str
    body: str
    response_body: str


@dataclass(frozen=True, slots=True)
class ReflectedMethod:
    rpc: RpcMethod
    bindings: tuple[HttpBinding, ...]


@dataclass(frozen=True, slots=True)
class ReflectedService:
    name: str
    backend: Backend
    methods: tuple[ReflectedMethod, ...]
    # The artifact service's GetArtifactCapabilities (no HTTP rule; feeds server-info).
    capabilities: RpcMethod | None = None


def _binding(rule: http_pb2.HttpRule) -> HttpBinding | None:
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        return None
    if pattern == "custom":
        return HttpBinding(rule.custom.kind.upper(), rule.custom.path, rule.body, rule.response_body)
    return HttpBinding(pattern.upper(), getattr(rule, pattern), rule.body, rule.response_body)


def http_bindings(options: descriptor_pb2.MethodOptions) -> tuple[HttpBinding, ...]:
    """Every (method, path) binding of a method's google.api.http rule, additional ones included."""
    if not options.HasExtension(annotations_pb2.http):
        # Parsed before the extension was known: re-parse with it registered.
        options = descriptor_pb2.MethodOptions.FromString(options.SerializeToString())
        if not options.HasExtension(annotations_pb2.http):
            return ()
    rule = options.Extensions[annotations_pb2.http]
    out = []
    for item in (rule, *rule.additional_bindings):
        binding = _binding(item)
        if binding is not None:
            out.append(binding)
    return tuple(out)


async def _ask(
    backend: Backend, requests: list[reflection_pb2.ServerReflectionRequest]
) -> list[reflection_pb2.ServerReflectionResponse]:
    responses = await backend.reflect(requests)
    for response in responses:
        if response.HasField("error_response"):
            raise RunstashError(
                ErrorCode.TEMPORARILY_UNAVAILABLE,
                f"reflection on {backend.label} failed: {response.error_response.error_message}",
            )
    return responses


async def _fetch_files(
    backend: Backend, services: list[str]
) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    requests = [reflection_pb2.ServerReflectionRequest(file_containing_symbol=s) for s in services]
    while requests:
        for response in await _ask(backend, requests):
            for raw in response.file_descriptor_response.file_descriptor_proto:
                proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
                files.setdefault(proto.name, proto)
        missing = {dep for proto in files.values() for dep in proto.dependency if dep not in files}
        requests = [reflection_pb2.ServerReflectionRequest(file_by_filename=name) for name in sorted(missing)]
    return files


def _build_pool(files: dict[str, descriptor_pb2.FileDescriptorProto]) -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        added.add(name)
        proto = files[name]
        for dependency in proto.dependency:
            add(dependency)
        pool.Add(proto)

    for name in files:
        add(name)
    return pool


def _methods(
    backend: Backend,
    pool: descriptor_pool.DescriptorPool,
    files: dict[str, descriptor_pb2.FileDescriptorProto],
    service_name: str,
) -> Iterator[ReflectedMethod]:
    service = pool.FindServiceByName(service_name)
    file_proto = files[service.file.name]
    service_proto = next(s for s in file_proto.service if s.name == service.name)
    for method_proto in service_proto.method:
        method = service.methods_by_name[method_proto.name]
        if method_proto.client_streaming and method_proto.server_streaming:
            log.warning("skipping bidirectional-streaming RPC %s: no HTTP mapping", method.full_name)
            continue
        rpc = RpcMethod(
            service=service_name,
            name=method.name,
            request_class=backend.message_class(method.input_type),
            response_class=backend.message_class(method.output_type),
            client_streaming=method_proto.client_streaming,
            server_streaming=method_proto.server_streaming,
        )
        yield ReflectedMethod(rpc, http_bindings(method_proto.options))


async def reflect_services(backend: Backend) -> list[ReflectedService]:
    """Every non-infrastructure service a backend offers, with its HTTP-annotated methods."""
    listing = await _ask(backend, [reflection_pb2.ServerReflectionRequest(list_services="")])
    names = [
        service.name
        for response in listing
        for service in response.list_services_response.service
        if not service.name.startswith(_SKIPPED_PREFIXES)
    ]
    if not names:
        return []
    files = await _fetch_files(backend, names)
    pool = _build_pool(files)
    services = []
    for name in names:
        methods = list(_methods(backend, pool, files, name))
        capabilities = next(
            (m.rpc for m in methods if m.rpc.name == CAPABILITIES_METHOD and not m.bindings),
            None,
        )
        routed = tuple(m for m in methods if m.bindings)
        services.append(ReflectedService(name, backend, routed, capabilities))
    return services
