"""The option groups the `runstash` commands share, each flag with its help text.

Boolean environment variables are read through :func:`runstash_protos.flags.parse_bool` (not
click's own boolean type), so ``on``/``off`` mean the same here as in every service.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from runstash_protos.flags import parse_bool

from runstash_server.config import DEFAULT_ARTIFACTS_DESTINATION, DEFAULT_BACKEND_STORE_URI

F = TypeVar("F", bound=Callable[..., Any])


def split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def env_bool(name: str, default: bool) -> bool:
    """A boolean environment flag; a value that is not one is a usage error naming the variable."""
    try:
        return parse_bool(os.environ.get(name), default)
    except ValueError as exc:
        raise click.UsageError(f"{name}: {exc}") from None


def _apply(fn: F, *options: Callable[[F], F]) -> F:
    for option in reversed(options):
        fn = option(fn)
    return fn


def store_options(fn: F) -> F:
    return _apply(
        fn,
        click.option(
            "--backend-store-uri",
            envvar="MLFLOW_BACKEND_STORE_URI",
            default=DEFAULT_BACKEND_STORE_URI,
            show_default=True,
            help="SQLAlchemy URI of the metadata database: sqlite:///…, postgresql://…, mysql://…",
        ),
        click.option(
            "--default-artifact-root",
            envvar="MLFLOW_DEFAULT_ARTIFACT_ROOT",
            default=None,
            help="artifact_location prefix for new experiments (default: mlflow-artifacts:/ when "
            "serving artifacts, else ./mlruns).",
        ),
    )


def artifact_options(fn: F) -> F:
    return click.option(
        "--artifacts-destination",
        envvar="MLFLOW_ARTIFACTS_DESTINATION",
        default=DEFAULT_ARTIFACTS_DESTINATION,
        show_default=True,
        help="Where proxied artifacts are stored: a local folder or s3://bucket/prefix.",
    )(fn)


def bind_options(default_port: int) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        return _apply(
            fn,
            click.option(
                "-h",
                "--host",
                envvar="MLFLOW_HOST",
                default="127.0.0.1",
                show_default=True,
                help="Address to listen on (0.0.0.0 for every interface).",
            ),
            click.option(
                "-p",
                "--port",
                envvar="MLFLOW_PORT",
                type=int,
                default=default_port,
                show_default=True,
                help="Port to listen on.",
            ),
        )

    return wrap


def gateway_options(fn: F) -> F:
    """The HTTP side: workers, URL prefix, security middleware, access log."""
    return _apply(
        fn,
        click.option(
            "-w",
            "--workers",
            envvar="MLFLOW_WORKERS",
            type=int,
            default=1,
            show_default=True,
            help="Gateway worker processes; each builds its own connections to the services.",
        ),
        click.option(
            "--static-prefix",
            envvar="MLFLOW_STATIC_PREFIX",
            default="",
            help="Serve the UI and the REST API under this URL prefix (e.g. /mlflow), for a reverse "
            "proxy that forwards a sub-path. Must start with '/' and not end with one.",
        ),
        click.option(
            "--allowed-hosts",
            envvar="MLFLOW_SERVER_ALLOWED_HOSTS",
            default=None,
            help="Comma-separated Host header values to accept besides localhost and private "
            "addresses (wildcards: *.example.com, host:*). '*' turns the DNS-rebinding check off "
            "and prints a warning.",
        ),
        click.option(
            "--cors-allowed-origins",
            envvar="MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
            default=None,
            help="Comma-separated browser origins allowed to call the API across sites (e.g. "
            "https://app.example.com, https://*.corp.example, http://localhost:*). Default: "
            "localhost and loopback origins on any port.",
        ),
        click.option(
            "--disable-security-middleware",
            is_flag=True,
            default=lambda: env_bool("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", False),
            help="Turn off the Host, CORS and X-Frame-Options checks (only behind a proxy that "
            "does them).  [env MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE]",
        ),
        click.option(
            "--x-frame-options",
            envvar="MLFLOW_SERVER_X_FRAME_OPTIONS",
            default="SAMEORIGIN",
            show_default=True,
            help="X-Frame-Options header on every answer: SAMEORIGIN, DENY, or NONE to send none.",
        ),
        click.option(
            "--access-log/--no-access-log",
            default=lambda: env_bool("RUNSTASH_ACCESS_LOG", True),
            help="One log line per request (method, path, status, duration in ms).  "
            "[env RUNSTASH_ACCESS_LOG; default: on]",
        ),
    )
