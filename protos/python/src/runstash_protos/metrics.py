"""runstash's Prometheus metrics, one set per process, created only when metrics are on.

``RUNSTASH_METRICS=1`` turns them on (the command line sets it for ``--expose-prometheus DIR`` and
``--metrics-port``). With ``PROMETHEUS_MULTIPROC_DIR`` set (``--expose-prometheus`` sets it to DIR,
as MLflow does) every process writes its values to files there and a scrape of any process sums
them, so ``--workers N`` report as one server. Code on hot paths asks :func:`metrics` and does
nothing when it is None.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from runstash_protos.flags import parse_bool

METRICS_ENV = "RUNSTASH_METRICS"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class Metrics:
    http_requests: Any
    http_latency: Any
    grpc_requests: Any
    grpc_latency: Any
    metric_points: Any
    artifact_bytes: Any
    db_connections: Any
    group_commit_size: Any


_lock = threading.Lock()
_metrics: list[Metrics] = []


def metrics_enabled() -> bool:
    return parse_bool(os.environ.get(METRICS_ENV), False)


def _create() -> Metrics:
    from prometheus_client import Counter, Gauge, Histogram

    return Metrics(
        http_requests=Counter(
            "runstash_http_requests", "HTTP requests by route and status.", ["method", "route", "status"]
        ),
        http_latency=Histogram(
            "runstash_http_request_duration_seconds", "HTTP request latency by route.", ["method", "route"]
        ),
        grpc_requests=Counter(
            "runstash_grpc_requests",
            "gRPC calls served, by method and status code.",
            ["service", "method", "code"],
        ),
        grpc_latency=Histogram(
            "runstash_grpc_request_duration_seconds", "gRPC call latency by method.", ["service", "method"]
        ),
        metric_points=Counter("runstash_metric_points_ingested", "Metric points written to the database."),
        artifact_bytes=Counter(
            "runstash_artifact_bytes", "Artifact bytes through the artifact service.", ["direction"]
        ),
        db_connections=Gauge(
            "runstash_db_pool_connections_in_use",
            "Database connections checked out of the pool.",
            ["pool"],
            multiprocess_mode="livesum",
        ),
        group_commit_size=Histogram(
            "runstash_group_commit_size",
            "Writes committed together in one group commit.",
            buckets=_SIZE_BUCKETS,
        ),
    )


def metrics() -> Metrics | None:
    """This process's metrics, or None when metrics are off."""
    if _metrics:
        return _metrics[0]
    if not metrics_enabled():
        return None
    with _lock:
        if not _metrics:
            _metrics.append(_create())
    return _metrics[0]


def exposition() -> tuple[bytes, str]:
    """(body, content type) of a scrape: every process's values with a multiprocess dir."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    metrics()
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> None:
    """A /metrics HTTP endpoint of its own (the gRPC services' metrics port)."""
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    metrics()
    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)


def count_points(n: int) -> None:
    observed = metrics()
    if observed is not None and n:
        observed.metric_points.inc(n)


def count_artifact_bytes(direction: str, n: int) -> None:
    observed = metrics()
    if observed is not None and n:
        observed.artifact_bytes.labels(direction).inc(n)


def observe_group_commit(size: int) -> None:
    observed = metrics()
    if observed is not None:
        observed.group_commit_size.observe(size)


def observe_pool(engine: Any, pool: str) -> None:
    """Track the connections ``engine`` has checked out (SQLAlchemy pool events)."""
    observed = metrics()
    if observed is None:
        return
    from sqlalchemy import event

    gauge = observed.db_connections.labels(pool)
    event.listen(engine, "checkout", lambda *_: gauge.inc())
    event.listen(engine, "checkin", lambda *_: gauge.dec())
