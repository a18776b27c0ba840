"""The ingest stream's bulk path (``stream_points.log_points``: COPY on PostgreSQL) leaves the store
exactly as the log-batch path does: the same points, latest metrics and step blocks, whatever
the keys, step layout (negative, several blocks, a step held twice) or special values; a point
already stored is reported (DuplicatePoints) and the deduplicating retry stores nothing twice."""

from __future__ import annotations

import random
from typing import Any

from runstash_metadata.store import schema as s
from runstash_metadata.store import stream_points
from runstash_metadata.store.metrics import MetricPoint
from runstash_metadata.store.points import DuplicatePoints, Points
from sqlalchemy import select, text

from tests.metadata.store_driver import StoreDriver


def _rows(store: StoreDriver, run_id: str) -> dict[str, list[Any]]:
    """The run's points, latest metrics and (where kept) step blocks, in a fixed order."""
    found = {}
    with store.db.reader() as conn:
        for table in (s.metrics, s.latest_metrics):
            columns = [table.c[c] for c in ("key", "step", "timestamp", "value", "is_nan")]
            query = select(*columns).where(table.c.run_uuid == run_id).order_by(*columns)
            found[table.name] = [tuple(row) for row in conn.execute(query)]
        blocks = store.db.q.step_blocks(conn, [run_id], "k", None)
        if blocks is not None:  # the database keeps step blocks (PostgreSQL): all keys' blocks
            blocks_sql = text(
                "SELECT key, block, points, CAST(steps AS TEXT), min_ts, max_ts FROM metric_step_blocks"
                " WHERE run_uuid = :r ORDER BY key, block"
            )
            found["metric_step_blocks"] = [tuple(row) for row in conn.execute(blocks_sql, {"r": run_id})]
    return found


def _batches(seed: int) -> list[list[MetricPoint]]:
    rng = random.Random(seed)
    specials = [float("inf"), -float("inf"), -1e300, 0.0, -0.0]
    batches = []
    for n in range(5):
        points: dict[tuple[str, int, int, float], None] = {}
        for _ in range(1200):
            key = rng.choice(["loss", "acc", "a b/c", "k"])
            step = rng.choice([rng.randint(-40, 3000), n * 100 + rng.randint(0, 99)])
            value = rng.random() if rng.random() < 0.9 else rng.choice(specials)
            points[(key, 1000 + n * 10 + rng.randint(0, 5), step, value)] = None  # unique per batch
        batches.append([MetricPoint(k, v, ts, step) for k, ts, step, v in points])
    return batches


def _log_points(store: StoreDriver, run_id: str, batch: list[MetricPoint]) -> None:
    points = Points.of_columns(
        run_id,
        [p.key for p in batch],
        [p.value for p in batch],
        [p.timestamp for p in batch],
        [p.step for p in batch],
    )
    with store.db.transaction() as conn:
        stream_points.log_points(conn, store.db.q, run_id, points)


def test_bulk_path_stores_what_log_batch_stores(store: StoreDriver, experiment_id: int) -> None:
    by_batch, by_stream = (
        store.create_run(experiment_id, user_id="t", start_time=1).info.run_id for _ in range(2)
    )
    batches = _batches(3)
    for batch in batches:
        store.log_batch(by_batch, metrics=batch)
        _log_points(store, by_stream, batch)
    expected = _rows(store, by_batch)
    assert len(expected["metrics"]) == sum(len(b) for b in batches)  # every point is one row
    assert _rows(store, by_stream) == expected


def test_a_stored_point_is_reported_and_the_retry_stores_it_once(store: StoreDriver, run_id: str) -> None:
    batch = [MetricPoint("m", float(i), 7, i) for i in range(1500)]
    _log_points(store, run_id, batch)
    before = _rows(store, run_id)
    points = Points.of_columns(run_id, ["m"] * 3, [0.0, 1.0, 5000.0], [7, 7, 7], [0, 1, 5000])
    try:
        with store.db.transaction() as conn:
            stream_points.log_points(conn, store.db.q, run_id, points)
        raised = False
    except DuplicatePoints:
        raised = True
        assert _rows(store, run_id) == before  # the failed transaction changed nothing
        with store.db.transaction() as conn:
            stream_points.log_points(conn, store.db.q, run_id, points, dedupe=True)
    # COPY has no ON CONFLICT (PostgreSQL); the other databases' bulk path skips stored points.
    assert raised == (store.db.q.name == "postgresql")
    after = _rows(store, run_id)
    assert len(after["metrics"]) == 1501
    assert after["latest_metrics"] == [("m", 5000, 7, 5000.0, False)]
