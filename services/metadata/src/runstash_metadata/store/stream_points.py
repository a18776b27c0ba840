"""The ingest stream's write path: a group of one run's plain metric points in one transaction.

Like :func:`.metrics.log_batch` with metrics only (same run check, same points, step blocks and
latest metrics), but the points come column-wise and go in by the database's bulk-load path
(``Queries.load_points``: COPY on PostgreSQL). The groups are several batches large, where the
per-row cost of the fused insert statement, not its round trip, is what a point costs.
"""

from __future__ import annotations

from runstash_protos.metrics import count_points
from sqlalchemy import Connection

from runstash_metadata.store.checks import require_active_run
from runstash_metadata.store.points import Points
from runstash_metadata.store.queries import Queries


def log_points(conn: Connection, q: Queries, run_id: str, points: Points, *, dedupe: bool = False) -> None:
    """All or nothing. With ``dedupe`` false, may raise :class:`~.points.DuplicatePoints` (a point
    already stored): roll back and call again with ``dedupe``."""
    require_active_run(conn, run_id)
    if dedupe:
        q.write_points(conn, points, dedupe=True)
    else:
        q.load_points(conn, points)
    count_points(len(points))
