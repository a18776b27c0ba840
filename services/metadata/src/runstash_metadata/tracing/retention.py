"""Trace retention: delete traces older than a given age in small batches, each its own short
transaction, so ingest (which never waits on these rows) keeps its pace.

``RUNSTASH_TRACE_RETENTION_DAYS`` (unset or 0: keep everything) turns on a daemon thread that sweeps
every ``RUNSTASH_TRACE_RETENTION_INTERVAL_S`` seconds (default 600).
"""

from __future__ import annotations

import logging
import os
import threading

from runstash_metadata.store.database import Database
from runstash_metadata.store.values import now_ms
from runstash_metadata.tracing import store

log = logging.getLogger("runstash.traces")

RETENTION_DAYS_ENV = "RUNSTASH_TRACE_RETENTION_DAYS"
RETENTION_INTERVAL_ENV = "RUNSTASH_TRACE_RETENTION_INTERVAL_S"
BATCH = 1000
_DAY_MS = 86_400_000


def expire_traces(db: Database, older_than_ms: int, *, batch: int = BATCH) -> int:
    """Delete every trace whose request time is at or before ``older_than_ms``; returns how many."""
    total = 0
    while True:
        with db.transaction() as conn:
            ids = store.oldest_traces(conn, None, older_than_ms, batch)
            total += store.delete_traces(conn, ids)
        if len(ids) < batch:
            return total


def retention_days() -> float:
    raw = os.environ.get(RETENTION_DAYS_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else 0.0
    except ValueError:
        raise SystemExit(f"{RETENTION_DAYS_ENV} must be a number of days, not {raw!r}") from None


def start_retention(db: Database) -> threading.Event | None:
    """Start the sweeper if a retention is set; setting the event it returns stops it."""
    days = retention_days()
    if not days:
        return None
    interval = float(os.environ.get(RETENTION_INTERVAL_ENV, "600"))
    stop = threading.Event()

    def sweep() -> None:
        while not stop.is_set():
            try:
                deleted = expire_traces(db, now_ms() - int(days * _DAY_MS))
                if deleted:
                    log.info("trace retention: deleted %d traces older than %g days", deleted, days)
            except Exception:
                log.exception("trace retention sweep failed")
            stop.wait(interval)

    threading.Thread(target=sweep, name="trace-retention", daemon=True).start()
    return stop
