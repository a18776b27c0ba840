"""Failed sign-ins slow down per user and per address: after a few failures, each key must wait
an exponentially growing delay before its next attempt is even checked (a refusal costs nothing,
so a guesser cannot make the server run scrypt for it)."""

from __future__ import annotations

import threading
import time

FREE_FAILURES = 5
MAX_DELAY_S = 300.0


class LoginThrottle:
    def __init__(self, clock: type[time] | None = None) -> None:  # type: ignore[valid-type]
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                count, until = self._failures.get(key, (0, 0.0))
                if count >= FREE_FAILURES and now < until:
                    return True
        return False

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory under a spray of names
                self._failures.clear()
            for key in keys:
                count = self._failures.get(key, (0, 0.0))[0] + 1
                delay = min(MAX_DELAY_S, 2.0 ** (count - FREE_FAILURES)) if count >= FREE_FAILURES else 0.0
                self._failures[key] = (count, now + delay)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
