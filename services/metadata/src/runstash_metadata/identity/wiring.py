"""Put the declared permissions in front of a process's servicers (one call from the server wiring).

With auth off the declarations are still checked (an undeclared RPC never serves); with auth on
the first administrator is ensured, the AuthService joins the servicers, and every servicer is
guarded by one :class:`LocalAuthority` over the tracking database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from google.protobuf import descriptor_pool
from runstash_protos import auth_pb2  # noqa: F401  (registers AuthService in the default pool)
from runstash_protos.authz import guard_servicer

from runstash_metadata.identity.authority import AuthSettings, LocalAuthority
from runstash_metadata.identity.config import SERVICE_CREDENTIAL_ENV, AuthConfig, bootstrap_admin
from runstash_metadata.identity.servicer import AuthServicer
from runstash_metadata.store.database import Database

log = logging.getLogger("runstash.auth")

AUTH_SERVICE = "runstash.auth.AuthService"


def authority_for(db: Database, config: AuthConfig) -> LocalAuthority:
    settings = AuthSettings(
        enabled=config.enabled,
        default_permission=config.default_permission,
        service_credential=os.environ.get(SERVICE_CREDENTIAL_ENV, ""),
    )
    return LocalAuthority(db, settings)


def secure_servicers(
    servicers: Mapping[str, object], db: Database | None, config: AuthConfig | None = None
) -> dict[str, object]:
    """``servicers`` (keyed by full service name) behind their declared permissions."""
    config = config or AuthConfig.from_env()
    pool = descriptor_pool.Default()
    if not config.enabled:
        return {name: guard_servicer(s, pool.FindServiceByName(name), None) for name, s in servicers.items()}
    if db is None:
        raise SystemExit(
            "authentication needs the tracking database in this process (runstash server/metadata)"
        )
    bootstrap_admin(db, config)
    authority = authority_for(db, config)
    everything = {**servicers, AUTH_SERVICE: AuthServicer(authority)}
    log.info("authentication on (default permission %s)", config.default_permission)
    return {
        name: guard_servicer(s, pool.FindServiceByName(name), authority) for name, s in everything.items()
    }
