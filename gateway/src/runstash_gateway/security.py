"""Host-header allow-list and CORS, as `mlflow server`'s security middleware does them.

Hosts: localhost, loopback and private addresses are always allowed, plus ``--allowed-hosts``
patterns (fnmatch-style, ``*`` = everything). Origins: same-origin requests and the
``--cors-allowed-origins`` patterns get CORS headers; other origins may not send state-changing
requests (403 ``Cross-origin request blocked``); their GETs are answered without CORS headers, so
the browser keeps the body from the page.
"""

from __future__ import annotations

import ipaddress
from fnmatch import fnmatchcase

INVALID_HOST_MESSAGE = b"Invalid Host header - possible DNS rebinding attack detected"
CORS_BLOCKED_MESSAGE = b"Cross-origin request blocked"
ALLOWED_METHODS = b"GET, POST, PUT, DELETE, OPTIONS, PATCH"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def _split_host(host: str) -> str:
    """``[::1]:5000`` -> ``::1``; ``example.com:80`` -> ``example.com``."""
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _is_local(hostname: str) -> bool:
    lowered = hostname.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(lowered)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


class SecurityPolicy:
    def __init__(self, allowed_hosts: tuple[str, ...], cors_allowed_origins: tuple[str, ...]) -> None:
        self._host_patterns = tuple(p.lower() for p in allowed_hosts)
        self._any_host = "*" in self._host_patterns
        self._origin_patterns = tuple(p.lower() for p in cors_allowed_origins)
        self._any_origin = "*" in self._origin_patterns
        self._host_cache: dict[str, bool] = {}
        self._origin_cache: dict[str, bool] = {}

    def host_allowed(self, host: str | None) -> bool:
        if host is None or self._any_host:
            return True
        cached = self._host_cache.get(host)
        if cached is not None:
            return cached
        lowered = host.lower()
        hostname = _split_host(lowered)
        verdict = _is_local(hostname) or any(
            fnmatchcase(lowered, pattern) or fnmatchcase(hostname, pattern) for pattern in self._host_patterns
        )
        if len(self._host_cache) < 1024:
            self._host_cache[host] = verdict
        return verdict

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        lowered = origin.lower()
        if host is not None and lowered.split("://", 1)[-1] == host.lower():
            return True  # same origin: the UI served by this server
        if self._any_origin:
            return True
        cached = self._origin_cache.get(lowered)
        if cached is None:
            cached = any(fnmatchcase(lowered, pattern) for pattern in self._origin_patterns)
            if len(self._origin_cache) < 1024:
                self._origin_cache[lowered] = cached
        return cached
