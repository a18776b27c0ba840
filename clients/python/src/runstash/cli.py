"""The `runstash` command line: the all-in-one server and each service on its own.

`runstash server` takes the flags of `mlflow server` (and reads the same MLFLOW_* environment
variables), so scripts written for MLflow start runstash unchanged. Flags for features of MLflow's
own web stack that runstash does not have are refused with a clear message rather than ignored.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from runstash.config import DEFAULT_ARTIFACTS_DESTINATION, DEFAULT_BACKEND_STORE_URI, ServerConfig

F = TypeVar("F", bound=Callable[..., Any])

_UNSUPPORTED = {
    "gunicorn_opts": "--gunicorn-opts",
    "waitress_opts": "--waitress-opts",
    "expose_prometheus": "--expose-prometheus",
    "app_name": "--app-name",
    "read_replica_backend_store_uri": "--read-replica-backend-store-uri",
    "enable_workspaces": "--enable-workspaces",
    "workspace_store_uri": "--workspace-store-uri",
    "trace_archival_config": "--trace-archival-config",
}


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


@click.group()
@click.version_option(package_name="runstash")
def main() -> None:
    """runstash: a self-hosted, MLflow-compatible experiment-tracking server."""


def _store_options(fn: F) -> F:
    fn = click.option(
        "--default-artifact-root",
        envvar="MLFLOW_DEFAULT_ARTIFACT_ROOT",
        default=None,
        help="artifact_location prefix for new experiments (default: mlflow-artifacts:/ when serving "
        "artifacts, else ./mlruns).",
    )(fn)
    fn = click.option(
        "--backend-store-uri",
        envvar="MLFLOW_BACKEND_STORE_URI",
        default=DEFAULT_BACKEND_STORE_URI,
        show_default=True,
        help="SQLAlchemy URI of the metadata database: sqlite:///…, postgresql://…, mysql://…",
    )(fn)
    return fn


def _artifact_options(fn: F) -> F:
    fn = click.option(
        "--artifacts-destination",
        envvar="MLFLOW_ARTIFACTS_DESTINATION",
        default=DEFAULT_ARTIFACTS_DESTINATION,
        show_default=True,
        help="Where proxied artifacts are stored: a local folder or s3://bucket/prefix.",
    )(fn)
    return fn


def _bind_options(default_port: int) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        fn = click.option(
            "-p", "--port", envvar="MLFLOW_PORT", type=int, default=default_port, show_default=True
        )(fn)
        fn = click.option("-h", "--host", envvar="MLFLOW_HOST", default="127.0.0.1", show_default=True)(fn)
        return fn

    return wrap


@main.command()
@_store_options
@_artifact_options
@_bind_options(5000)
@click.option("--registry-store-uri", envvar="MLFLOW_REGISTRY_STORE_URI", default=None, hidden=True)
@click.option("--serve-artifacts/--no-serve-artifacts", envvar="MLFLOW_SERVE_ARTIFACTS", default=True)
@click.option("--artifacts-only", envvar="MLFLOW_ARTIFACTS_ONLY", is_flag=True, default=False)
@click.option("-w", "--workers", envvar="MLFLOW_WORKERS", type=int, default=1, show_default=True)
@click.option("--static-prefix", envvar="MLFLOW_STATIC_PREFIX", default="")
@click.option("--allowed-hosts", envvar="MLFLOW_SERVER_ALLOWED_HOSTS", default=None)
@click.option("--cors-allowed-origins", envvar="MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", default=None)
@click.option(
    "--disable-security-middleware", envvar="MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", is_flag=True
)
@click.option("--x-frame-options", envvar="MLFLOW_SERVER_X_FRAME_OPTIONS", default="SAMEORIGIN")
@click.option("--uvicorn-opts", envvar="MLFLOW_UVICORN_OPTS", default=None, hidden=True)
@click.option("--dev", is_flag=True, default=False, hidden=True)
@click.option("--grpc-port", type=int, default=None, help="Also expose the gRPC services on this port.")
@click.option("--gunicorn-opts", default=None, hidden=True)
@click.option("--waitress-opts", default=None, hidden=True)
@click.option("--expose-prometheus", default=None, hidden=True)
@click.option("--app-name", default=None, hidden=True)
@click.option("--read-replica-backend-store-uri", default=None, hidden=True)
@click.option("--enable-workspaces", is_flag=True, default=None, hidden=True)
@click.option("--workspace-store-uri", default=None, hidden=True)
@click.option("--trace-archival-config", default=None, hidden=True)
def server(**opts: Any) -> None:
    """Run everything in one command: gateway, metadata service and artifact service."""
    for key, flag in _UNSUPPORTED.items():
        if opts.get(key):
            raise click.UsageError(f"{flag} is an MLflow server feature that runstash does not provide.")
    registry = opts["registry_store_uri"]
    if registry and registry != opts["backend_store_uri"]:
        raise click.UsageError(
            "runstash keeps the registry in the backend store; --registry-store-uri must match."
        )
    prefix = opts["static_prefix"] or ""
    if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "{" in prefix or "}" in prefix):
        raise click.UsageError(
            "--static-prefix must start with '/', must not end with '/', and hold no braces."
        )
    config = ServerConfig(
        backend_store_uri=opts["backend_store_uri"],
        default_artifact_root=opts["default_artifact_root"],
        serve_artifacts=opts["serve_artifacts"],
        artifacts_destination=opts["artifacts_destination"],
        artifacts_only=opts["artifacts_only"],
        host=opts["host"],
        port=opts["port"],
        workers=max(1, opts["workers"]),
        static_prefix=prefix,
        allowed_hosts=_split(opts["allowed_hosts"]),
        cors_allowed_origins=_split(opts["cors_allowed_origins"]),
        disable_security_middleware=opts["disable_security_middleware"],
        x_frame_options=opts["x_frame_options"],
        multipart_uploads=_env_flag("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"),
        multipart_downloads=_env_flag("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"),
        grpc_port=opts["grpc_port"],
    )
    from runstash.serve import serve_all_in_one

    serve_all_in_one(config)


@main.command()
@_store_options
@click.option("--serve-artifacts/--no-serve-artifacts", envvar="MLFLOW_SERVE_ARTIFACTS", default=True)
@_bind_options(5001)
def metadata(**opts: Any) -> None:
    """Run the metadata service alone (gRPC)."""
    from runstash.serve import serve_metadata

    config = ServerConfig(
        backend_store_uri=opts["backend_store_uri"],
        default_artifact_root=opts["default_artifact_root"],
        serve_artifacts=opts["serve_artifacts"],
    )
    serve_metadata(config, f"{opts['host']}:{opts['port']}")


@main.command()
@_artifact_options
@_bind_options(5002)
@click.option(
    "--metadata",
    "metadata_address",
    default=None,
    help="host:port of the metadata service (run-scoped routes).",
)
def artifacts(**opts: Any) -> None:
    """Run the artifact service alone (gRPC)."""
    from runstash.serve import serve_artifacts

    config = ServerConfig(
        artifacts_destination=opts["artifacts_destination"],
        metadata_address=opts["metadata_address"],
        multipart_uploads=_env_flag("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"),
        multipart_downloads=_env_flag("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"),
    )
    serve_artifacts(config, f"{opts['host']}:{opts['port']}")


@main.command()
@_bind_options(5000)
@click.option("--metadata", "metadata_address", required=True, help="host:port of the metadata service.")
@click.option(
    "--artifacts",
    "artifacts_addresses",
    default=None,
    help="host:port[,host:port…] of artifact-service replicas.",
)
@click.option("-w", "--workers", type=int, default=1, show_default=True)
@click.option("--static-prefix", default="")
@click.option("--allowed-hosts", envvar="MLFLOW_SERVER_ALLOWED_HOSTS", default=None)
@click.option("--cors-allowed-origins", envvar="MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", default=None)
@click.option("--disable-security-middleware", is_flag=True)
def gateway(**opts: Any) -> None:
    """Run the HTTP gateway alone, in front of remote metadata and artifact services."""
    from runstash.serve import serve_gateway

    addresses = _split(opts["artifacts_addresses"])
    config = ServerConfig(
        host=opts["host"],
        port=opts["port"],
        workers=max(1, opts["workers"]),
        static_prefix=opts["static_prefix"] or "",
        allowed_hosts=_split(opts["allowed_hosts"]),
        cors_allowed_origins=_split(opts["cors_allowed_origins"]),
        disable_security_middleware=opts["disable_security_middleware"],
        serve_artifacts=bool(addresses),
        metadata_address=opts["metadata_address"],
        artifacts_addresses=addresses,
        multipart_uploads=_env_flag("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"),
        multipart_downloads=_env_flag("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"),
    )
    serve_gateway(config)


from runstash.cli_sync import sync  # noqa: E402 - the gRPC client's command

main.add_command(sync)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
