"""Host-header allow-list and CORS origins, as `mlflow server`'s security middleware does them.

Hosts: localhost, loopback and private addresses are always allowed, plus ``--allowed-hosts``
patterns (``*`` = everything, with a warning). Origins: same-origin requests and the
``--cors-allowed-origins`` patterns get CORS headers.

Values are parsed strictly before any pattern is tried: a Host is ``name[:port]`` or
``[v6]:port`` and an Origin is ``scheme://host[:port]``, nothing more, so ``127.0.0.1:5077@evil.com``
or ``https://evil.com/.corp.example`` never reach a pattern. Patterns match component by
component: ``*`` in a host spans DNS labels only, ``*`` as a port is digits only.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass

log = logging.getLogger("runstash.gateway")

INVALID_HOST_MESSAGE = b"Invalid Host header - possible DNS rebinding attack detected"
CORS_BLOCKED_MESSAGE = b"Cross-origin request blocked"
ALLOWED_METHODS = b"GET, POST, PUT, DELETE, OPTIONS, PATCH"
SAFE_METHODS = frozenset({"GET", "HEAD"})

_NAME = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?"
_V6 = r"\[[0-9a-f:.]+\]"
_AUTHORITY = re.compile(rf"(?P<host>{_NAME}|{_V6})(?::(?P<port>[0-9]{{1,5}}))?\Z")
_ORIGIN = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>.*)\Z", re.DOTALL)
_PATTERN = re.compile(
    r"(?:(?P<scheme>[a-z*][a-z0-9+.*-]*)://)?(?P<host>\[[^\]]*\]|[^:/\[\]]*)(?::(?P<port>[0-9*]+))?/?\Z"
)
_HOST_WILDCARD = r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*"


@dataclass(frozen=True, slots=True)
class Authority:
    """A parsed ``host[:port]``; IPv6 hosts keep their brackets, names are lower-case."""

    host: str
    port: str

    @property
    def bare_host(self) -> str:
        return self.host[1:-1] if self.host.startswith("[") else self.host


def parse_authority(value: str) -> Authority | None:
    found = _AUTHORITY.match(value.lower())
    if found is None:
        return None
    return Authority(found.group("host"), found.group("port") or "")


def parse_origin(value: str) -> tuple[str, Authority] | None:
    """``https://app.example.com:8443`` -> (``https``, authority); anything with a path, user info
    or junk after the port -> None."""
    found = _ORIGIN.match(value.lower())
    if found is None:
        return None
    authority = parse_authority(found.group("rest"))
    return None if authority is None else (found.group("scheme"), authority)


def is_local(authority: Authority) -> bool:
    name = authority.bare_host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _part(text: str, wildcard: str) -> re.Pattern[str]:
    return re.compile(wildcard.join(re.escape(piece) for piece in text.split("*")) + r"\Z")


@dataclass(frozen=True, slots=True)
class _Pattern:
    scheme: re.Pattern[str] | None
    host: re.Pattern[str]
    port: re.Pattern[str] | None  # None: any port (host patterns without one)

    def matches(self, authority: Authority, scheme: str | None = None) -> bool:
        if self.scheme is not None and (scheme is None or not self.scheme.match(scheme)):
            return False
        if not self.host.match(authority.host):
            return False
        return self.port is None or bool(self.port.match(authority.port))


def _compile(pattern: str, *, origin: bool) -> _Pattern | None:
    found = _PATTERN.match(pattern.strip().lower())
    if found is None or (origin and found.group("scheme") is None):
        log.warning("ignoring malformed %s pattern %r", "origin" if origin else "host", pattern)
        return None
    scheme, host, port = found.group("scheme"), found.group("host"), found.group("port")
    if port is not None:
        port_pattern: re.Pattern[str] | None = _part(port, "[0-9]{1,5}")
    else:
        port_pattern = _part("", "") if origin else None  # an origin pattern without a port: none
    return _Pattern(
        _part(scheme, "[a-z0-9+.-]+") if scheme else None,
        _part(host, _HOST_WILDCARD) if not host.startswith("[") else _part(host, ""),
        port_pattern,
    )


class SecurityPolicy:
    """The configured host and origin patterns, compiled once; verdicts cached per value."""

    def __init__(self, allowed_hosts: tuple[str, ...], cors_allowed_origins: tuple[str, ...]) -> None:
        self.any_host = "*" in allowed_hosts
        self.any_origin = "*" in cors_allowed_origins
        if self.any_host:
            log.warning(
                "SECURITY WARNING: --allowed-hosts '*' turns the Host check off; any web page can "
                "then reach this server through DNS rebinding. List the host names clients use instead."
            )
        self._hosts = [p for p in (_compile(h, origin=False) for h in allowed_hosts if h != "*") if p]
        self._origins = [p for p in (_compile(o, origin=True) for o in cors_allowed_origins if o != "*") if p]
        self._host_cache: dict[str, bool] = {}
        self._origin_cache: dict[str, bool] = {}

    def host_allowed(self, host: str | None) -> bool:
        """No Host header (HTTP/1.0) is allowed; a malformed one never is, even with ``*``."""
        if host is None:
            return True
        cached = self._host_cache.get(host)
        if cached is None:
            authority = parse_authority(host)
            cached = authority is not None and (
                self.any_host or is_local(authority) or any(p.matches(authority) for p in self._hosts)
            )
            if len(self._host_cache) < 1024:
                self._host_cache[host] = cached
        return cached

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        parsed = parse_origin(origin)
        if parsed is None:
            return False
        if host is not None and parsed[1] == parse_authority(host):
            return True  # same origin: the UI served by this server
        if self.any_origin:
            return True
        cached = self._origin_cache.get(origin)
        if cached is None:
            scheme, authority = parsed
            cached = any(p.matches(authority, scheme) for p in self._origins)
            if len(self._origin_cache) < 1024:
                self._origin_cache[origin] = cached
        return cached
