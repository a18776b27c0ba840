"""Auth flags of `runstash server`, as `mlflow server --app-name basic-auth` spells them.

They travel to every process of the deployment (workers included) as environment variables, read
by the metadata service (``RUNSTASH_AUTH``, MLflow's ``MLFLOW_AUTH_*``) and by the gateway
(``RUNSTASH_AUTH_TRUSTED_HEADER``/``_PROXIES``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

APP_NAMES = ("basic-auth",)


def auth_options(fn: F) -> F:
    fn = click.option(
        "--ssl-keyfile", envvar="RUNSTASH_SSL_KEYFILE", default=None, help="HTTPS: private key."
    )(fn)
    fn = click.option(
        "--ssl-certfile", envvar="RUNSTASH_SSL_CERTFILE", default=None, help="HTTPS: certificate chain."
    )(fn)
    fn = click.option(
        "--auth-trusted-proxies",
        envvar="RUNSTASH_AUTH_TRUSTED_PROXIES",
        default=None,
        help="CIDR,... of the proxies allowed to set --auth-trusted-header; from anyone else it is ignored.",
    )(fn)
    fn = click.option(
        "--auth-trusted-header",
        envvar="RUNSTASH_AUTH_TRUSTED_HEADER",
        default=None,
        help="Take the user name from this header set by an SSO proxy (e.g. X-Forwarded-User).",
    )(fn)
    fn = click.option(
        "--app-name",
        default=None,
        help="basic-auth: users, permissions and MLflow's auth routes (MLFLOW_AUTH_CONFIG_PATH).",
    )(fn)
    return fn


def apply_auth_options(opts: dict[str, Any]) -> None:
    """Check the auth flags and hand them to the server processes through the environment."""
    for flag, variable in (
        ("ssl_certfile", "RUNSTASH_SSL_CERTFILE"),
        ("ssl_keyfile", "RUNSTASH_SSL_KEYFILE"),
    ):
        value = opts.pop(flag, None)
        if value:
            os.environ[variable] = value
    if bool(os.environ.get("RUNSTASH_SSL_CERTFILE")) != bool(os.environ.get("RUNSTASH_SSL_KEYFILE")):
        raise click.UsageError("HTTPS needs both --ssl-certfile and --ssl-keyfile.")
    app_name = opts.pop("app_name", None)
    header = opts.pop("auth_trusted_header", None)
    proxies = opts.pop("auth_trusted_proxies", None)
    if app_name is not None and app_name not in APP_NAMES:
        raise click.UsageError(f"--app-name {app_name}: runstash provides {', '.join(APP_NAMES)} only.")
    if header and not proxies:
        raise click.UsageError("--auth-trusted-header needs --auth-trusted-proxies (who may set it).")
    if header and app_name is None:
        raise click.UsageError("--auth-trusted-header needs --app-name basic-auth.")
    if app_name is None:
        return
    os.environ["RUNSTASH_AUTH"] = "true"
    # In one process family the gateway vouches for trusted-header users with this credential.
    os.environ.setdefault("RUNSTASH_SERVICE_CREDENTIAL", secrets.token_urlsafe(32))
    if header:
        os.environ["RUNSTASH_AUTH_TRUSTED_HEADER"] = header
        os.environ["RUNSTASH_AUTH_TRUSTED_PROXIES"] = proxies
