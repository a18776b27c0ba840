"""TLS on the gRPC listeners and channels of a deployment, configured once by environment so every
process (services, gateway, workers) agrees.

Server: ``RUNSTASH_GRPC_TLS_CERTFILE`` + ``RUNSTASH_GRPC_TLS_KEYFILE`` serve TLS; with
``RUNSTASH_GRPC_TLS_CLIENT_CAFILE`` too, clients must present a certificate signed by that CA
(mutual TLS). Channels: ``RUNSTASH_GRPC_TLS_CAFILE`` (the CA to trust), plus
``RUNSTASH_GRPC_TLS_CLIENT_CERTFILE``/``_KEYFILE`` for mutual TLS.

Plain gRPC on an address other than loopback starts only with a loud warning: without TLS, call
metadata (credentials included) and data cross the network in clear.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

log = logging.getLogger("runstash.transport")

CERTFILE, KEYFILE = "RUNSTASH_GRPC_TLS_CERTFILE", "RUNSTASH_GRPC_TLS_KEYFILE"
CLIENT_CAFILE = "RUNSTASH_GRPC_TLS_CLIENT_CAFILE"
CAFILE = "RUNSTASH_GRPC_TLS_CAFILE"
CLIENT_CERTFILE, CLIENT_KEYFILE = "RUNSTASH_GRPC_TLS_CLIENT_CERTFILE", "RUNSTASH_GRPC_TLS_CLIENT_KEYFILE"


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, 0.0.0.0 or [::]: reachable from elsewhere


def bind_port(server: grpc.Server, address: str, environ: Mapping[str, str] | None = None) -> int:
    """Bind ``address`` with TLS when configured; plain otherwise (warned off loopback)."""
    env = os.environ if environ is None else environ
    cert, key = _read(env.get(CERTFILE)), _read(env.get(KEYFILE))
    if cert and key:
        client_ca = _read(env.get(CLIENT_CAFILE))
        credentials = grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
        )
        return server.add_secure_port(address, credentials)
    if not is_loopback(address):
        auth_on = env.get("RUNSTASH_AUTH", "").lower() in ("1", "true", "yes", "on")
        log.warning(
            "\n%s\nPLAIN gRPC on %s: calls, credentials and data are not encrypted and anyone who can "
            "reach this port can call it%s. Set %s/%s (and %s for mutual TLS).\n%s",
            "!" * 78, address,
            "" if auth_on else " WITHOUT ANY AUTHENTICATION",
            CERTFILE, KEYFILE, CLIENT_CAFILE, "!" * 78,
        )  # fmt: skip
    return server.add_insecure_port(address)


def _channel_credentials(env: Mapping[str, str]) -> grpc.ChannelCredentials | None:
    ca = _read(env.get(CAFILE))
    if ca is None:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=ca,
        private_key=_read(env.get(CLIENT_KEYFILE)),
        certificate_chain=_read(env.get(CLIENT_CERTFILE)),
    )


def channel(
    target: str, options: Sequence[tuple[str, Any]] = (), environ: Mapping[str, str] | None = None
) -> grpc.Channel:
    credentials = _channel_credentials(os.environ if environ is None else environ)
    if credentials is None:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, credentials, options=options)


def aio_channel(
    target: str, options: Sequence[tuple[str, Any]] = (), environ: Mapping[str, str] | None = None
) -> grpc.aio.Channel:
    credentials = _channel_credentials(os.environ if environ is None else environ)
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, credentials, options=options)
