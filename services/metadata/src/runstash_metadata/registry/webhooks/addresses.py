"""Where a webhook may connect: public addresses only, unless the operator allows private ones.

An address is judged after unwrapping the IPv6 forms that embed an IPv4 one (IPv4-mapped, 6to4,
NAT64), so ``::ffff:127.0.0.1`` is loopback. The check runs on every resolved address at
create/update and, at delivery, on the peer the socket actually connected to (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import os
import socket

from runstash_protos.flags import parse_bool

ALLOW_PRIVATE_ENV = "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Cloud metadata endpoints that are not covered by the private/link-local ranges.
_METADATA = {ipaddress.ip_address("fd00:ec2::254")}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def private_allowed() -> bool:
    allowed: bool = parse_bool(os.environ.get(ALLOW_PRIVATE_ENV), False)
    return allowed


def unwrapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(text: str) -> bool:
    try:
        address = unwrapped(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        return False
    return address.is_global and not address.is_multicast and address not in _METADATA


def resolve(host: str, port: int, timeout: float = 5.0) -> list[str]:
    """Every address ``host`` resolves to (OSError when it does not resolve)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    finally:
        socket.setdefaulttimeout(previous)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refused_address(addresses: list[str]) -> str | None:
    """The first address a webhook may not reach, or None when all are allowed."""
    if private_allowed():
        return None
    return next((a for a in addresses if not is_public(a)), None)
