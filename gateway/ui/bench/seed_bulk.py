"""Seeds the UI bench's chart data in bulk: METRICS keys x POINTS steps for each of RUNS runs.

The experiment and its runs (each with a ``seed`` param, run index mod 5) are created over REST.
The points then go one of two ways:

* ``--grpc HOST:PORT``: the server's bulk path, the gRPC ingest stream
  (:class:`runstash.ingest.AsyncLogger`, batches of 1000 points, one store transaction each);
* ``--sqlite PATH`` / ``--postgres DSN``: one ``INSERT ... SELECT`` per run straight into the
  server's store (points and latest metrics; on PostgreSQL also the per-(run, key) step blocks
  the server keeps on write, filled by migration 0008's own backfill statement), the points
  computed by the database itself. The ingest stream stores
  some 15,000 points/s on a loaded 2-core machine, which makes 100 runs x 10 keys x 100,000
  points two hours; this way it is minutes. The bench measures reads, which see the same rows.

Prints ``{"experiment_id": ..., "run_ids": [...]}``.

    .venv/bin/python gateway/ui/bench/seed_bulk.py --base URL (--grpc HOST:PORT | --sqlite PATH) \
        --name NAME --runs 100 --metrics 10 --points 100000 [--keys loss]
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from runstash.connection import Endpoint
from runstash.ingest import AsyncLogger
from runstash_metadata.store.queries.ddl import STEP_BLOCK_ROWS
from runstash_protos import metadata_pb2 as pb

BATCH = 1000


def post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/2.0/mlflow/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
    return json.loads(text) if text else {}


def key_names(metrics: int, keys: list[str] | None) -> list[str]:
    """``train/metric_0``, ``val/metric_1``, ... (sections by prefix), unless keys are given."""
    return keys or [f"{'val' if m % 2 else 'train'}/metric_{m}" for m in range(metrics)]


def value_of(step: int, points: int, m: int, r: int) -> float:
    """A decaying curve per metric with a per-run wiggle, as a training loss looks."""
    return math.exp(-step / (points / (2 + m))) + 0.01 * math.sin(step / 40 + r)


def stream_runs(target: str, jobs: list[tuple[int, str]], keys: list[str], points: int, t0: int) -> int:
    """Streams every point of the given (index, run id) pairs on one ingest stream."""
    logger = AsyncLogger(Endpoint.from_uri(target, environ={}), spool_dir="/tmp/runstash-bench-spool", window=32)
    sent = 0
    try:
        for r, run_id in jobs:
            batch: list[pb.Metric] = []
            for step in range(points):
                ts = t0 + step * 10
                for m, key in enumerate(keys):
                    batch.append(pb.Metric(key=key, value=value_of(step, points, m, r), timestamp=ts, step=step))
                if len(batch) >= BATCH:
                    logger.log_batch(run_id, batch)
                    sent += len(batch)
                    batch = []
            if batch:
                logger.log_batch(run_id, batch)
                sent += len(batch)
        logger.flush()
    finally:
        logger.close()
    return sent


# value_of() in SQL: k(m, key) x s(step), in the primary key's order within each key.
_INSERT_POINTS = """
WITH RECURSIVE s(step) AS (SELECT 0 UNION ALL SELECT step + 1 FROM s WHERE step < :points - 1)
INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step)
SELECT :run_id, k.key, exp(-s.step / (CAST(:points AS REAL) / (2 + k.m))) + 0.01 * sin(s.step / 40.0 + :r),
       0, :t0 + s.step * 10, s.step
FROM k, s
"""
_INSERT_LATEST = """
INSERT OR REPLACE INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step)
SELECT run_uuid, key, value, is_nan, timestamp, step FROM metrics
WHERE run_uuid = :run_id AND key = :key AND step = :points - 1
"""


def insert_runs(path: str, run_ids: list[str], keys: list[str], points: int, t0: int) -> int:
    """Every point of every run through SQL, one transaction per run."""
    conn = sqlite3.connect(path, timeout=600)
    conn.execute("PRAGMA cache_size = -400000")
    conn.execute("CREATE TEMP TABLE k (m INTEGER, key TEXT)")
    conn.executemany("INSERT INTO k VALUES (?, ?)", list(enumerate(keys)))
    for r, run_id in enumerate(run_ids):
        params = {"run_id": run_id, "points": points, "r": r, "t0": t0}
        with conn:
            conn.execute(_INSERT_POINTS, params)
            for key in keys:
                conn.execute(_INSERT_LATEST, {**params, "key": key})
    conn.close()
    return len(run_ids) * len(keys) * points


_PG_POINTS = """
INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step)
SELECT %(run_id)s, k.key, exp(-s.step / (%(points)s::float8 / (1 + k.m))) + 0.01 * sin(s.step / 40.0 + %(r)s),
       false, %(t0)s + s.step * 10, s.step
FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS k(key, m), generate_series(0, %(points)s - 1) AS s(step)
"""
_PG_LATEST = """
INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step)
SELECT run_uuid, key, value, is_nan, timestamp, step FROM metrics WHERE run_uuid = %(run_id)s AND step = %(points)s - 1
ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step
"""
# As migration 0008 backfills metric_step_blocks from existing points.
_PG_BLOCKS = (
    "INSERT INTO metric_step_blocks (run_uuid, key, block, points, steps, min_ts, max_ts) "
    + STEP_BLOCK_ROWS.format(source="(SELECT * FROM metrics WHERE run_uuid = %(run_id)s) AS m")
)


def insert_runs_pg(dsn: str, jobs: list[tuple[int, str]], keys: list[str], points: int, t0: int) -> int:
    """Every point of the given (index, run id) pairs through SQL, one transaction per run."""
    import psycopg2  # noqa: PLC0415 - only this sink needs it

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('metric_step_blocks') IS NOT NULL")
            blocks = bool(cur.fetchone()[0])
        for r, run_id in jobs:
            params = {"run_id": run_id, "points": points, "r": r, "t0": t0, "keys": keys}
            with conn, conn.cursor() as cur:
                cur.execute(_PG_POINTS, params)
                cur.execute(_PG_LATEST, params)
                if blocks:
                    cur.execute(_PG_BLOCKS, params)
    finally:
        conn.close()
    return len(jobs) * len(keys) * points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    sink = parser.add_mutually_exclusive_group(required=True)
    sink.add_argument("--grpc", help="ingest stream target host:port")
    sink.add_argument("--sqlite", help="the server's SQLite database file")
    sink.add_argument("--postgres", help="the server's PostgreSQL database (libpq DSN)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--keys", default="", help="comma-separated metric keys (default: sections)")
    parser.add_argument("--run-prefix", default="view")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    keys = key_names(args.metrics, [k for k in args.keys.split(",") if k])
    started = time.monotonic()
    experiment_id = post(args.base, "experiments/create", {"name": args.name})["experiment_id"]
    now = int(time.time() * 1000)
    run_ids = []
    for r in range(args.runs):
        run = post(args.base, "runs/create", {"experiment_id": experiment_id, "run_name": f"{args.run_prefix}-{r}", "start_time": now})
        run_id = run["run"]["info"]["run_id"]
        post(args.base, "runs/log-batch", {"run_id": run_id, "params": [{"key": "seed", "value": str(r % 5)}]})
        run_ids.append(run_id)
    t0 = now - args.points * 10
    jobs = list(enumerate(run_ids))
    shards = [jobs[w :: args.workers] for w in range(args.workers)]
    n = len(shards)
    if args.sqlite:
        sent = insert_runs(args.sqlite, run_ids, keys, args.points, t0)
    elif args.postgres:
        with ProcessPoolExecutor(args.workers) as pool:
            sent = sum(pool.map(insert_runs_pg, [args.postgres] * n, shards, [keys] * n, [args.points] * n, [t0] * n))
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            sent = sum(pool.map(stream_runs, [args.grpc] * n, shards, [keys] * n, [args.points] * n, [t0] * n))
    # Finished runs, as in a chart view of past runs: RUNNING ones would be polled live.
    for run_id in run_ids:
        post(args.base, "runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)})
    seconds = time.monotonic() - started
    print(f"seeded {sent} points in {seconds:.1f} s ({sent / seconds:,.0f} points/s)", file=sys.stderr)
    print(json.dumps({"experiment_id": experiment_id, "run_ids": run_ids}))


if __name__ == "__main__":
    main()
