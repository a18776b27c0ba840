"""The verified-credential cache: one verification per credential however many requests carry it
at once, refreshed ahead of expiry by one request while the others keep the cached answer, and
never a cached failure."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from runstash_metadata.identity.credential_cache import CredentialCache
from runstash_protos.authz import Caller, unauthenticated
from runstash_protos.errors import RunstashError

ALICE = Caller("alice", 1, False)


def test_concurrent_requests_share_one_verification() -> None:
    cache = CredentialCache()
    calls = 0
    release = threading.Event()

    def verify() -> Caller:
        nonlocal calls
        calls += 1
        release.wait(5)
        return ALICE

    with ThreadPoolExecutor(16) as pool:
        answers = [pool.submit(cache.get, "Basic YWxpY2U6cHc=", verify) for _ in range(16)]
        release.set()
        assert {a.result(10) for a in answers} == {ALICE}
    assert calls == 1
    assert cache.get("Basic YWxpY2U6cHc=", lambda: pytest.fail("cached")) == ALICE


def test_a_failure_reaches_the_waiters_and_is_not_cached() -> None:
    cache = CredentialCache()
    with pytest.raises(RunstashError):
        cache.get("Basic bad", lambda: (_ for _ in ()).throw(unauthenticated()))
    assert cache.get("Basic bad", lambda: ALICE) == ALICE  # verified again, not answered from cache


def test_refresh_ahead_then_expiry() -> None:
    cache = CredentialCache(ttl_s=0.4, refresh_after_s=0.0)  # every hit is due for a refresh
    assert cache.get("k", lambda: ALICE) == ALICE
    bob = Caller("bob", 2, False)
    assert cache.get("k", lambda: bob) == bob  # due: this request re-verified it
    cache.clear()
    with pytest.raises(RunstashError):
        cache.get("k", lambda: (_ for _ in ()).throw(unauthenticated()))
