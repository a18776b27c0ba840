"""Fresh planner statistics on PostgreSQL while the tracking tables grow.

Autovacuum analyzes a table once 10% of it changed, but visits each database at most once per
``autovacuum_naptime`` (a minute by default, longer when many databases share the server). Right
after a burst of new runs the planner still believes the tables are tiny, and search plans nested
loops over every run (measured: 206 ms instead of 74 ms for a filtered, metric-ordered page of
10,000 runs). The store counts its own writes and runs ``ANALYZE`` on the search tables in a
background thread when the count has doubled since the last time (so the cost stays logarithmic
in the table size), never more than one at a time.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, text

log = logging.getLogger("runstash.metadata")

SEARCH_TABLES = ("runs", "params", "tags", "latest_metrics")
FIRST_ANALYZE_AFTER = 500


class StatsRefresher:
    """Call :meth:`wrote` after each committed write; ANALYZE follows growth in the background."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._writes = 0
        self._next = FIRST_ANALYZE_AFTER
        self._running = False

    def wrote(self, count: int = 1) -> None:
        with self._lock:
            self._writes += count
            if self._writes < self._next or self._running:
                return
            self._next = 2 * self._writes
            self._running = True
        threading.Thread(target=self._analyze, name="runstash-analyze", daemon=True).start()

    def _analyze(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.execute(text(f"ANALYZE {', '.join(SEARCH_TABLES)}"))
                conn.commit()
        except Exception:  # statistics are an optimisation: never fail or crash over them
            log.warning("ANALYZE of the search tables failed", exc_info=True)
        finally:
            with self._lock:
                self._running = False
