"""Failed sign-ins slow down per user and per address: past a few failures, a key must wait an
exponentially growing delay before its next attempt is even checked (a refusal costs nothing, so
a guesser cannot make the server run scrypt for it). An address gets more free failures than a
user: many people may share one (a NAT, the SSO proxy)."""

from __future__ import annotations

import threading
import time

USER_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
MAX_DELAY_S = 300.0
_MAX_KEYS = 100_000


class LoginThrottle:
    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, address: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (f"user:{username}", USER_FREE_FAILURES), (f"address:{address}", ADDRESS_FREE_FAILURES)

    def blocked(self, username: str, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for key, _ in self._keys(username, address):
                _count, until = self._failures.get(key, (0, 0.0))
                if now < until:
                    return True
        return False

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > _MAX_KEYS:  # bounded memory under a spray of names
                self._failures.clear()
            for key, free in self._keys(username, address):
                count = self._failures.get(key, (0, 0.0))[0] + 1
                delay = min(MAX_DELAY_S, 2.0 ** (count - free)) if count >= free else 0.0
                self._failures[key] = (count, now + delay)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username}", None)
