"""Verified credentials, kept briefly so scrypt runs once per credential, not once per request.

Keyed by the SHA-256 of the whole ``Authorization`` value (never the secret itself). Two things
keep a password hash off the request path under load:

* single flight: when a credential is not cached, one request verifies it and the others asking
  for the same credential meanwhile wait for that answer (N clients starting together with the
  same password cost one scrypt, not N: that stampede was seconds of p99 on a 2-core machine);
* refresh ahead: in the last fifth of an entry's life one request re-verifies it while the others
  keep the cached answer, so a busy credential never expires under its users.

A failed verification is handed to the requests waiting on it but never cached. Changing a
password, an admin flag or deleting a user clears the whole cache (:meth:`clear`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from runstash_protos.authz import Caller

TTL_S = 30.0
REFRESH_AFTER_S = 24.0
MAX_ENTRIES = 10_000


@dataclass(slots=True)
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    caller: Caller | None = None
    error: BaseException | None = None


class CredentialCache:
    def __init__(self, ttl_s: float = TTL_S, refresh_after_s: float = REFRESH_AFTER_S) -> None:
        self._ttl, self._refresh_after = ttl_s, refresh_after_s
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[Caller, float]] = OrderedDict()  # key -> (caller, verified at)
        self._flights: dict[str, _Flight] = {}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, credential: str, verify: Callable[[], Caller]) -> Caller:
        """The caller ``credential`` names, verifying it with ``verify`` only when needed."""
        key = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            age = now - entry[1] if entry is not None else None
            if entry is not None and age is not None and age < self._refresh_after:
                return entry[0]
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
            elif entry is not None and age is not None and age < self._ttl:
                return entry[0]  # someone is refreshing it: the cached answer stands meanwhile
        assert flight is not None
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.caller is not None
            return flight.caller
        return self._lead(key, flight, verify)

    def _lead(self, key: str, flight: _Flight, verify: Callable[[], Caller]) -> Caller:
        try:
            flight.caller = verify()
        except BaseException as error:
            flight.error = error
            with self._lock:
                self._entries.pop(key, None)  # a credential that no longer verifies is dropped
            raise
        else:
            with self._lock:
                self._entries[key] = (flight.caller, time.monotonic())
                self._entries.move_to_end(key)
                if len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
            return flight.caller
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
