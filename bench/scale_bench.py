"""W7 of `make bench`: runstash on a big PostgreSQL database.

Generates ``runs`` runs of one experiment with ``points`` metric points in all (5 keys per run,
10 params, 3 tags and the run name tag, as W3 seeds them; each key's points at steps 0..n-1)
through PostgreSQL's bulk path (COPY, in chunks), with the derived rows the write path maintains
(latest metrics, step blocks), then ANALYZE. Against a runstash server on that database:

* ingest: loadgen's W1 (log-batch) on the full database, beside the same W1 on an empty one
  started the same way (the ratio is the target: >= 0.8);
* search: ``metrics.m0 > 0.5 and params.p1 = 'x'`` ordered by ``metrics.m1 DESC``, p50;
* run page: ``runs/get`` of random runs (the run, its params, tags and each metric key's last
  value), p50;
* chart: ``get-history-bulk-interval`` of one key over 10 random runs, p50;
* the database's size on disk per million points.

Sizes: 10,000 runs / 5M points by default (a few minutes); ``--w7-full`` for 100,000 runs / 50M
points (generation alone takes tens of minutes on a 2-core machine, hence opt-in).

    .venv/bin/python bench/run_bench.py --peers runstash --w7 [--w7-full] --no-w5 --workloads w1
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg2

from bench.bench_env import PG, fresh_pg_database, pg_uri

KEYS = 5
PARAMS = 10
CHUNK_RUNS = 500
REPS = 30
SMALL = (10_000, 5_000_000)
FULL = (100_000, 50_000_000)
API = "/api/2.0/mlflow"
FILTER = "metrics.m0 > 0.5 and params.p1 = 'x'"


def _copy(cur: Any, table: str, columns: str, text: str) -> None:
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO(text))


def _chunk_rows(run_ids: list[str], start: int, steps: int, rng: random.Random) -> dict[str, str]:
    """The COPY text of each table for these runs (numbered from ``start``)."""
    runs, params, tags, points, latest, blocks = [], [], [], [], [], []
    bits = "1" * steps + "0" * (1024 - steps)
    for n, rid in enumerate(run_ids, start=start):
        ts = 1_700_000_000_000 + n
        runs.append(f"{rid}\tw7-{n}\t{{eid}}\tbench\tFINISHED\t{ts}\t{ts + 1000}\tactive\t/w7/{rid}\n")
        params += [f"{rid}\tp{j}\t{('x' if rng.random() < 0.5 else 'y') if j == 1 else f'v{n % 97}'}\n"
                   for j in range(PARAMS)]  # fmt: skip
        tags += [f"{rid}\tt{j}\ttag{(n + j) % 7}\n" for j in range(3)] + [f"{rid}\tmlflow.runName\tw7-{n}\n"]
        for k in range(KEYS):
            last = rng.random()
            points.append(
                "".join(f"{rid}\tm{k}\t{(s % 100) / 100}\tf\t{ts + s}\t{s}\n" for s in range(steps - 1))
                + f"{rid}\tm{k}\t{last}\tf\t{ts + steps - 1}\t{steps - 1}\n"
            )
            latest.append(f"{rid}\tm{k}\t{last}\tf\t{ts + steps - 1}\t{steps - 1}\n")
            blocks.append(f"{rid}\tm{k}\t0\t{steps}\t{bits}\t{ts}\t{ts + steps - 1}\n")
    return {
        "runs": "".join(runs),
        "params": "".join(params),
        "tags": "".join(tags),
        "metrics": "".join(points),
        "latest_metrics": "".join(latest),
        "metric_step_blocks": "".join(blocks),
    }


COLUMNS = {
    "runs": "run_uuid, name, experiment_id, user_id, status, start_time, end_time, lifecycle_stage, "
    "artifact_uri",
    "params": "run_uuid, key, value",
    "tags": "run_uuid, key, value",
    "metrics": 'run_uuid, key, value, is_nan, "timestamp", step',
    "latest_metrics": 'run_uuid, key, value, is_nan, "timestamp", step',
    "metric_step_blocks": "run_uuid, key, block, points, steps, min_ts, max_ts",
}


def generate(db: str, runs: int, points: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Fill the (migrated, empty) database; returns the experiment id, run ids and timings."""
    steps = max(1, points // (runs * KEYS))
    if steps > 1024:
        raise ValueError("at most 1024 steps per key (one step block)")
    rng = random.Random(7)
    run_ids = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(runs)]
    conn = psycopg2.connect(dbname=db, **PG)
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
            "last_update_time) VALUES ('w7', '/w7', 'active', 0, 0) RETURNING experiment_id"
        )
        eid = cur.fetchone()[0]
        for start in range(0, runs, CHUNK_RUNS):
            chunk = _chunk_rows(run_ids[start : start + CHUNK_RUNS], start, steps, rng)
            chunk["runs"] = chunk["runs"].replace("{eid}", str(eid))
            for table, text in chunk.items():
                _copy(cur, table, COLUMNS[table], text)
            conn.commit()
            if start // CHUNK_RUNS % 20 == 0:
                log(f"w7: {start + CHUNK_RUNS:,} / {runs:,} runs ({time.perf_counter() - t0:.0f} s)")
    generated_s = time.perf_counter() - t0
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT pg_database_size(current_database())")
        size = cur.fetchone()[0]
    conn.close()
    stored = runs * KEYS * steps
    return {
        "experiment_id": str(eid),
        "run_ids": run_ids,
        "runs": runs,
        "points": stored,
        "generate_s": round(generated_s, 1),
        "generate_points_per_s": round(stored / generated_s),
        "db_mib": round(size / 2**20),
        "db_mib_per_million_points": round(size / 2**20 / (stored / 1e6), 1),
    }


def _p50(call: Callable[[], httpx.Response]) -> float:
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        call().raise_for_status()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def _queries(url: str, experiment_id: str, run_ids: list[str]) -> dict[str, Any]:
    rng = random.Random(11)
    with httpx.Client(base_url=url, timeout=120.0) as c:
        search = {"experiment_ids": [experiment_id], "filter": FILTER, "max_results": 100,
                  "order_by": ["metrics.m1 DESC"]}  # fmt: skip
        hits = len(c.post(f"{API}/runs/search", json=search).json().get("runs", []))
        out: dict[str, Any] = {"search_hits": hits}
        out["search_filter_order_p50_ms"] = _p50(lambda: c.post(f"{API}/runs/search", json=search))
        out["run_page_p50_ms"] = _p50(
            lambda: c.get(f"{API}/runs/get", params={"run_id": rng.choice(run_ids)})
        )

        def chart() -> httpx.Response:
            ids = rng.sample(run_ids, 10)
            params: list[tuple[str, str | int | float | bool | None]] = [("run_ids", r) for r in ids]
            params += [("metric_key", "m0"), ("max_results", 320)]
            return c.get("/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval", params=params)

        out["chart_10_runs_p50_ms"] = _p50(chart)
        return out


def run(
    lg: Any, workdir: Path, args: argparse.Namespace, *, started: Any, log: Callable[[str], None]
) -> dict[str, Any]:
    """``started``/``log``: run_bench's (server start through loadgen, progress lines)."""
    runs, points = FULL if args.w7_full else SMALL
    if args.w7_runs:
        runs, points = args.w7_runs, args.w7_points or args.w7_runs * 500
    w1 = ["--w1-duration", str(args.w7_w1_s)]
    result: dict[str, Any] = {}
    for label in ("empty", "full"):
        with fresh_pg_database(f"w7_{label}") as db:
            uri = pg_uri(db, explicit_driver=False)
            destination = str(workdir / f"w7-{label}-artifacts")
            if label == "full":
                from runstash_metadata.store.database import Database

                Database.open(uri).close()  # the schema, as the server would create it
                log(f"w7: generating {runs:,} runs / {points:,} points through COPY")
                result.update(generate(db, runs, points, log))
            server = started(
                lg, "runstash", backend_uri=uri, destination=destination, workdir=workdir, args=args
            )
            with server as (url, start):
                log(f"w7: W1 on the {label} database")
                rec = lg.run(url, "w1", *w1, f"--server-pid={start['pid']}", f"--label=w7-{label}")
                result[f"w1_{label}_points_per_s"] = (rec.get("w1") or {}).get("metric_points_per_s")
                if label == "full":
                    result.update(_queries(url, result["experiment_id"], result["run_ids"]))
    empty, full = result.get("w1_empty_points_per_s"), result.get("w1_full_points_per_s")
    result["ingest_ratio_full_to_empty"] = round(full / empty, 2) if empty and full else None
    result.pop("run_ids", None)
    return result


def lines(w7: dict[str, Any]) -> Iterator[str]:
    yield ""
    yield f"w7 scale: {w7.get('runs', 0):,} runs, {w7.get('points', 0):,} points (PostgreSQL)   target"
    yield "-" * 75
    rows = [
        ("W1 empty DB points/s", "w1_empty_points_per_s", ""),
        ("W1 full DB points/s", "w1_full_points_per_s", ""),
        ("ingest full / empty", "ingest_ratio_full_to_empty", ">= 0.8"),
        ("search filter+order p50 ms", "search_filter_order_p50_ms", "<= 50"),
        ("run page (runs/get) p50 ms", "run_page_p50_ms", "<= 50"),
        ("10-run chart p50 ms", "chart_10_runs_p50_ms", "<= 100"),
        ("DB MiB per million points", "db_mib_per_million_points", ""),
        ("generation points/s (COPY)", "generate_points_per_s", ""),
    ]
    for label, key, target in rows:
        yield f"{label:34} {w7.get(key, '-')!s:>12}   {target}"
