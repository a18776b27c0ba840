"""Auth settings as MLflow's basic-auth app reads them, and the first administrator.

MLflow's INI file (``MLFLOW_AUTH_CONFIG_PATH``, section ``[mlflow]``: ``default_permission``,
``admin_username``, ``admin_password``) and its variables ``MLFLOW_AUTH_ADMIN_USERNAME`` /
``MLFLOW_AUTH_ADMIN_PASSWORD`` (set wins, even empty). There is no default password: with auth on
and no administrator yet, start-up takes the password from there or refuses and says how.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass

from runstash_protos.flags import parse_bool

from runstash_metadata.identity import store
from runstash_metadata.identity.levels import RANK
from runstash_metadata.identity.secrets import MIN_PASSWORD_LENGTH
from runstash_metadata.store.database import Database

AUTH_ENV = "RUNSTASH_AUTH"
SERVICE_CREDENTIAL_ENV = "RUNSTASH_SERVICE_CREDENTIAL"
_LEGACY_DEFAULT_PASSWORD = "password1234"


class AuthConfigError(SystemExit):
    """Auth is on but cannot start safely; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    enabled: bool
    default_permission: str = "READ"
    admin_username: str = "admin"
    admin_password: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthConfig:
        env = os.environ if environ is None else environ
        enabled = parse_bool(env.get(AUTH_ENV), False)
        section: Mapping[str, str] = {}
        path = env.get("MLFLOW_AUTH_CONFIG_PATH")
        if path:
            parser = configparser.ConfigParser()
            if not parser.read(path):
                raise AuthConfigError(f"MLFLOW_AUTH_CONFIG_PATH={path}: no such file")
            section = parser["mlflow"] if parser.has_section("mlflow") else {}
        default = section.get("default_permission", "READ").strip()
        if default not in RANK:
            raise AuthConfigError(f"default_permission={default!r}: use one of {', '.join(RANK)}")
        username = env.get("MLFLOW_AUTH_ADMIN_USERNAME", section.get("admin_username", "admin"))
        password = env.get("MLFLOW_AUTH_ADMIN_PASSWORD", section.get("admin_password"))
        return cls(enabled, default, username.strip(), password or None)


def bootstrap_admin(db: Database, config: AuthConfig) -> None:
    """Create the first administrator when there is none; refuse to start without a password."""
    with db.transaction() as conn:
        if store.count_admins(conn):
            return
        how = (
            "set MLFLOW_AUTH_ADMIN_PASSWORD (and optionally MLFLOW_AUTH_ADMIN_USERNAME), or admin_password "
            "in the [mlflow] section of the file named by MLFLOW_AUTH_CONFIG_PATH"
        )
        if not config.admin_username:
            raise AuthConfigError(f"Authentication is on and there is no administrator yet: {how}.")
        password = config.admin_password
        if not password or password == _LEGACY_DEFAULT_PASSWORD or len(password) < MIN_PASSWORD_LENGTH:
            raise AuthConfigError(
                f"Authentication is on and there is no administrator yet; runstash ships no default "
                f"password. To create '{config.admin_username}', {how} (at least {MIN_PASSWORD_LENGTH} "
                "characters, not the old default 'password1234')."
            )
        if store.find_user(conn, config.admin_username) is None:
            store.create_user(conn, config.admin_username, password, is_admin=True)
        else:
            store.set_admin(conn, config.admin_username, True)
