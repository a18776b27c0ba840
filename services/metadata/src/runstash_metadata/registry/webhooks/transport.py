"""One outbound webhook request, connected only to an address the guard allows.

The host is resolved here and every answer checked; the socket's actual peer is checked again
after connecting (a DNS answer that changes between the check and the connect cannot slip a
private address through). No proxy from the environment, no redirects (http.client follows
none), a bounded response read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from runstash_metadata.registry.webhooks.addresses import refused_address, resolve

MAX_RESPONSE_BYTES = 64 * 1024


class RefusedDestination(Exception):
    """The URL resolves or connects to an address webhooks may not reach (never retried)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: str
    retry_after: float | None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port, timeout)
    refused = refused_address(addresses)
    if refused is not None:
        raise RefusedDestination(
            f"Webhook URL must not resolve to a non-public IP address. '{host}' resolves to {refused}."
        )
    sock = _connect(addresses, port, timeout)
    if parts.scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = sock
    try:
        path = parts.path or "/"
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(MAX_RESPONSE_BYTES).decode("utf-8", errors="replace")
        return Response(response.status, text, _retry_after(response.getheader("Retry-After")))
    finally:
        connection.close()


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    last: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            last = exc
            continue
        peer = str(sock.getpeername()[0])
        if refused_address([peer]) is not None:
            sock.close()
            raise RefusedDestination(f"Webhook connection reached a non-public IP address: {peer}.")
        return sock
    raise last or OSError("no address to connect to")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
