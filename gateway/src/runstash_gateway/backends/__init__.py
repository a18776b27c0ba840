"""How the gateway reaches a service: in-process servicer objects or gRPC channels, one interface.

* :class:`InProcessBackend` (:mod:`.in_process`) calls the servicer objects of this process;
* :class:`RemoteBackend` (:mod:`.remote`) speaks gRPC to replicas of the services.

Both serve reflection through the same call so route building is the same code for both, both
put the same error boundary (:mod:`runstash_protos.rpc`) around the servicer, and both surface
failures as :class:`runstash_protos.errors.RunstashError`: the same servicer bug gives the same
HTTP answer in the all-in-one and the split deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .base import NO_METADATA, Backend, Metadata, RpcMethod
from .in_process import InProcessBackend, InProcessContext
from .remote import RemoteBackend

__all__ = [
    "NO_METADATA",
    "Backend",
    "GatewayBackends",
    "InProcessBackend",
    "InProcessContext",
    "Metadata",
    "RemoteBackend",
    "RpcMethod",
]


@dataclass(frozen=True)
class GatewayBackends:
    """Every backend the gateway fronts; a service offered by two backends goes to the first."""

    backends: tuple[Backend, ...]

    @classmethod
    def of(cls, *backends: Backend) -> GatewayBackends:
        return cls(tuple(backends))

    @classmethod
    def in_process(
        cls,
        servicers: Mapping[str, object],
        *,
        max_threads: int = 32,
        max_stream_threads: int = 32,
        on_close: Callable[[], None] | None = None,
    ) -> GatewayBackends:
        backend = InProcessBackend(
            servicers, max_threads=max_threads, max_stream_threads=max_stream_threads, on_close=on_close
        )
        return cls((backend,))

    @classmethod
    def remote(cls, *target_groups: Sequence[str]) -> GatewayBackends:
        """One RemoteBackend per group of replicas: ``remote(["m:7000"], ["a1:7001", "a2:7001"])``."""
        return cls(tuple(RemoteBackend(list(group)) for group in target_groups if group))
