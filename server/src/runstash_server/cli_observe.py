"""Flags for operators' observability, shared by the server commands: Prometheus metrics
(``--expose-prometheus DIR`` as `mlflow server` has it, ``--metrics-port`` for the gRPC services)
and the log format. They become environment settings, so every worker and in-process service of
the command sees the same ones (see runstash_protos.telemetry and runstash_protos.metrics)."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

LOG_FORMAT_ENV = "RUNSTASH_LOG_FORMAT"
METRICS_ENV = "RUNSTASH_METRICS"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PORT_ENV = "RUNSTASH_METRICS_PORT"


def log_format_option(fn: F) -> F:
    return click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        envvar=LOG_FORMAT_ENV,
        default="text",
        show_default=True,
        help="Log lines as text, or as JSON objects carrying the request id that follows each "
        "request from the gateway into the services.  [env RUNSTASH_LOG_FORMAT]",
    )(fn)


def prometheus_option(fn: F) -> F:
    return click.option(
        "--expose-prometheus",
        metavar="DIR",
        envvar="MLFLOW_EXPOSE_PROMETHEUS",
        default=None,
        help="Serve Prometheus metrics at /metrics; DIR holds every worker's values "
        "(emptied at start, as prometheus_client's multiprocess mode needs).",
    )(fn)


def metrics_port_option(fn: F) -> F:
    return click.option(
        "--metrics-port",
        type=int,
        envvar=METRICS_PORT_ENV,
        default=None,
        help="Serve this service's Prometheus metrics at http://HOST:PORT/metrics.  "
        "[env RUNSTASH_METRICS_PORT]",
    )(fn)


def apply_log_format(log_format: str) -> None:
    os.environ[LOG_FORMAT_ENV] = log_format


def apply_prometheus(directory: str | None) -> None:
    """Metrics on, values in ``directory`` (created; stale value files of a previous run removed)."""
    if not directory:
        return
    path = os.path.abspath(directory)
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)
    os.environ[MULTIPROC_ENV] = path
    os.environ[METRICS_ENV] = "1"


def apply_metrics_port(port: int | None) -> None:
    if port is not None:
        os.environ[METRICS_ENV] = "1"
        os.environ[METRICS_PORT_ENV] = str(port)
