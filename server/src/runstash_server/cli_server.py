"""`runstash server` and each service on its own: the commands of the runstash-server distribution
(found by the client's `runstash` command through the ``runstash.commands`` entry points).

`runstash server` takes the flags of `mlflow server` (and reads the same MLFLOW_* environment
variables), so scripts written for MLflow start runstash unchanged. Flags for features of MLflow's
own web stack that runstash does not have are refused with a clear message rather than ignored.
"""

from __future__ import annotations

from typing import Any

import click

from runstash_server.auth_options import apply_auth_options, auth_options
from runstash_server.cli_observe import (
    apply_log_format,
    apply_metrics_port,
    apply_prometheus,
    log_format_option,
    metrics_port_option,
    prometheus_option,
)
from runstash_server.cli_options import (
    artifact_options,
    bind_options,
    env_bool,
    gateway_options,
    split,
    store_options,
)
from runstash_server.config import ServerConfig

_UNSUPPORTED = {
    "gunicorn_opts": "--gunicorn-opts",
    "waitress_opts": "--waitress-opts",
    "read_replica_backend_store_uri": "--read-replica-backend-store-uri",
    "enable_workspaces": "--enable-workspaces",
    "workspace_store_uri": "--workspace-store-uri",
    "trace_archival_config": "--trace-archival-config",
}


def _multipart() -> dict[str, Any]:
    return {
        "multipart_uploads": env_bool("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", False),
        "multipart_downloads": env_bool("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", False),
    }


def _check_prefix(prefix: str) -> str:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "{" in prefix or "}" in prefix):
        raise click.UsageError(
            "--static-prefix must start with '/', must not end with '/', and hold no braces."
        )
    return prefix


def _gateway_fields(opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": opts["host"],
        "port": opts["port"],
        "workers": max(1, opts["workers"]),
        "static_prefix": _check_prefix(opts["static_prefix"] or ""),
        "allowed_hosts": split(opts["allowed_hosts"]),
        "cors_allowed_origins": split(opts["cors_allowed_origins"]),
        "disable_security_middleware": opts["disable_security_middleware"],
        "x_frame_options": opts["x_frame_options"],
        "access_log": opts["access_log"],
    }


@click.command()
@store_options
@artifact_options
@bind_options(5000)
@gateway_options
@click.option("--registry-store-uri", envvar="MLFLOW_REGISTRY_STORE_URI", default=None, hidden=True)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=lambda: env_bool("MLFLOW_SERVE_ARTIFACTS", True),
    help="Proxy artifact uploads and downloads through this server (mlflow-artifacts:/ locations). "
    "With --no-serve-artifacts the proxy routes answer 503 and clients write to "
    "--default-artifact-root themselves.  [env MLFLOW_SERVE_ARTIFACTS; default: on]",
)
@click.option(
    "--artifacts-only",
    is_flag=True,
    default=lambda: env_bool("MLFLOW_ARTIFACTS_ONLY", False),
    help="Serve only the artifact proxy routes; the tracking API answers 503.  [env MLFLOW_ARTIFACTS_ONLY]",
)
@click.option("--uvicorn-opts", envvar="MLFLOW_UVICORN_OPTS", default=None, hidden=True)
@click.option("--dev", is_flag=True, default=False, hidden=True)
@click.option("--grpc-port", type=int, default=None, help="Also expose the gRPC services on this port.")
@click.option("--gunicorn-opts", default=None, hidden=True)
@click.option("--waitress-opts", default=None, hidden=True)
@prometheus_option
@log_format_option
@auth_options
@click.option("--read-replica-backend-store-uri", default=None, hidden=True)
@click.option("--enable-workspaces", is_flag=True, default=None, hidden=True)
@click.option("--workspace-store-uri", default=None, hidden=True)
@click.option("--trace-archival-config", default=None, hidden=True)
def server(**opts: Any) -> None:
    """Run everything in one command: gateway, metadata service and artifact service."""
    apply_auth_options(opts)
    apply_log_format(opts["log_format"])
    apply_prometheus(opts["expose_prometheus"])
    for key, flag in _UNSUPPORTED.items():
        if opts.get(key):
            raise click.UsageError(f"{flag} is an MLflow server feature that runstash does not provide.")
    registry = opts["registry_store_uri"]
    if registry and registry != opts["backend_store_uri"]:
        raise click.UsageError(
            "runstash keeps the registry in the backend store; --registry-store-uri must match."
        )
    config = ServerConfig(
        backend_store_uri=opts["backend_store_uri"],
        default_artifact_root=opts["default_artifact_root"],
        serve_artifacts=opts["serve_artifacts"],
        artifacts_destination=opts["artifacts_destination"],
        artifacts_only=opts["artifacts_only"],
        grpc_port=opts["grpc_port"],
        **_gateway_fields(opts),
        **_multipart(),
    )
    from runstash_server.serve import serve_all_in_one

    serve_all_in_one(config)


@click.command()
@store_options
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=lambda: env_bool("MLFLOW_SERVE_ARTIFACTS", True),
    help="Give new experiments mlflow-artifacts:/ locations (the gateway proxies them).",
)
@bind_options(5001)
@metrics_port_option
@log_format_option
def metadata(**opts: Any) -> None:
    """Run the metadata service alone (gRPC)."""
    apply_log_format(opts["log_format"])
    apply_metrics_port(opts["metrics_port"])
    from runstash_server.serve import serve_metadata

    config = ServerConfig(
        backend_store_uri=opts["backend_store_uri"],
        default_artifact_root=opts["default_artifact_root"],
        serve_artifacts=opts["serve_artifacts"],
        host=opts["host"],
    )
    serve_metadata(config, f"{opts['host']}:{opts['port']}")


@click.command()
@artifact_options
@bind_options(5002)
@click.option(
    "--metadata",
    "metadata_address",
    default=None,
    help="host:port of the metadata service (run-scoped routes).",
)
@metrics_port_option
@log_format_option
def artifacts(**opts: Any) -> None:
    """Run the artifact service alone (gRPC)."""
    apply_log_format(opts["log_format"])
    apply_metrics_port(opts["metrics_port"])
    from runstash_server.serve import serve_artifacts

    config = ServerConfig(
        artifacts_destination=opts["artifacts_destination"],
        metadata_address=opts["metadata_address"],
        host=opts["host"],
        **_multipart(),
    )
    serve_artifacts(config, f"{opts['host']}:{opts['port']}")


@click.command()
@bind_options(5000)
@gateway_options
@click.option("--metadata", "metadata_address", required=True, help="host:port of the metadata service.")
@click.option(
    "--artifacts",
    "artifacts_addresses",
    default=None,
    help="host:port[,host:port…] of artifact-service replicas (round-robin).",
)
@prometheus_option
@log_format_option
def gateway(**opts: Any) -> None:
    """Run the HTTP gateway alone, in front of remote metadata and artifact services."""
    apply_log_format(opts["log_format"])
    apply_prometheus(opts["expose_prometheus"])
    from runstash_server.serve import serve_gateway

    addresses = split(opts["artifacts_addresses"])
    config = ServerConfig(
        serve_artifacts=bool(addresses),
        metadata_address=opts["metadata_address"],
        artifacts_addresses=addresses,
        **_gateway_fields(opts),
        **_multipart(),
    )
    serve_gateway(config)
