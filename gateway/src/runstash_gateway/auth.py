"""Identity at the edge: what an HTTP request says about its caller, handed to the services as call
metadata. The gateway decides nothing itself; the services enforce the declared permissions.

* ``Authorization`` (Basic user:password, or Bearer access token) is passed on as is; the service
  verifies it (with a short-lived cache, so a password is hashed once per credential).
* ``--auth-trusted-header`` (an SSO proxy's ``X-Forwarded-User``…) counts only from an address in
  ``--auth-trusted-proxies``; the gateway vouches for it with the service credential it shares with
  the services. From anyone else the header is ignored.
* 401 and 403 answer as MLflow's basic-auth app does: text bodies, ``WWW-Authenticate: Basic``
  (the browser's sign-in prompt), which the mlflow client maps by status.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runstash_protos.errors import RunstashError
from runstash_protos.flags import parse_bool

AUTH_ENV = "RUNSTASH_AUTH"
TRUSTED_HEADER_ENV = "RUNSTASH_AUTH_TRUSTED_HEADER"
TRUSTED_PROXIES_ENV = "RUNSTASH_AUTH_TRUSTED_PROXIES"
SERVICE_CREDENTIAL_ENV = "RUNSTASH_SERVICE_CREDENTIAL"
USER_KEY = "x-runstash-user"
SERVICE_KEY = "x-runstash-service-credential"
ADDRESS_KEY = "x-runstash-client-address"

UNAUTHENTICATED_BODY = (
    b"You are not authenticated. Please see "
    b"https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate."
)
DENIED_BODY = b"Permission denied"
_TEXT = b"text/plain; charset=utf-8"
_CHALLENGE = (b"www-authenticate", b'Basic realm="mlflow"')

Metadata = tuple[tuple[str, str], ...]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(value: str) -> tuple[Network, ...]:
    """``10.0.0.0/8,127.0.0.1`` -> networks; a bad entry raises ValueError naming it."""
    networks = []
    for raw in value.split(","):
        part = raw.strip()
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"--auth-trusted-proxies: {part!r} is not an address or CIDR") from None
    return tuple(networks)


@dataclass(frozen=True, slots=True)
class EdgeIdentity:
    enabled: bool
    trusted_header: bytes = b""
    trusted_proxies: tuple[Network, ...] = ()
    service_credential: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EdgeIdentity:
        env = os.environ if environ is None else environ
        header = env.get(TRUSTED_HEADER_ENV, "").strip().lower()
        return cls(
            enabled=parse_bool(env.get(AUTH_ENV), False),
            trusted_header=header.encode("latin-1"),
            trusted_proxies=parse_proxies(env.get(TRUSTED_PROXIES_ENV, "")),
            service_credential=env.get(SERVICE_CREDENTIAL_ENV, ""),
        )

    def _from_proxy(self, client: Any) -> bool:
        if not client:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)

    def metadata(self, headers: Iterable[tuple[bytes, bytes]], client: Any) -> Metadata:
        """The call metadata carrying this request's identity (empty with auth off)."""
        if not self.enabled:
            return ()
        pairs: list[tuple[str, str]] = []
        trusted_user = None
        for name, value in headers:
            if name == b"authorization":
                pairs.append(("authorization", value.decode("latin-1")))
            elif self.trusted_header and name == self.trusted_header:
                trusted_user = value.decode("latin-1").strip()
        if self.service_credential:
            pairs.append((SERVICE_KEY, self.service_credential))
            if client:
                pairs.append((ADDRESS_KEY, str(client[0])))
            if trusted_user and self._from_proxy(client):
                pairs.append((USER_KEY, trusted_user))
        return tuple(pairs)


def denial(error: RunstashError) -> tuple[bytes, bytes, list[tuple[bytes, bytes]]] | None:
    """MLflow's body, content type and headers for the auth guard's 401/403; None otherwise (a
    servicer's own PERMISSION_DENIED keeps the JSON error body)."""
    if error.http_status == 401:
        return UNAUTHENTICATED_BODY, _TEXT, [_CHALLENGE]
    if error.http_status == 403 and error.message == DENIED_BODY.decode():
        return DENIED_BODY, _TEXT, []
    return None


def https_options(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """uvicorn's TLS options from ``RUNSTASH_SSL_CERTFILE``/``RUNSTASH_SSL_KEYFILE`` (the
    ``--ssl-certfile``/``--ssl-keyfile`` flags)."""
    env = os.environ if environ is None else environ
    cert, key = env.get("RUNSTASH_SSL_CERTFILE"), env.get("RUNSTASH_SSL_KEYFILE")
    if not cert and not key:
        return {}
    if not cert or not key:
        raise ValueError("HTTPS needs both --ssl-certfile and --ssl-keyfile")
    return {"ssl_certfile": cert, "ssl_keyfile": key}
