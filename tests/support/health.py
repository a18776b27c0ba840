"""Waiting for a started server: bounded polling of its HTTP or gRPC health, never a sleep."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

POLL_INTERVAL_S = 0.1


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, alive: Callable[[], bool] | None = None
) -> float:
    """Polls `check` every POLL_INTERVAL_S until it returns True; returns the seconds it took.

    Raises if the deadline passes or `alive` reports the process behind it has died."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if check():
            return time.monotonic() - start
        if alive is not None and not alive():
            raise RuntimeError(f"{what}: process exited before becoming ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(POLL_INTERVAL_S)


def http_ok(url: str, expect_body: str | None = None) -> bool:
    try:
        resp = httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    if resp.status_code != 200:
        return False
    return expect_body is None or resp.text.strip() == expect_body


def grpc_serving(address: str) -> bool:
    """gRPC health check (grpc.health.v1) of the overall server (service "")."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1.0
            )
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
