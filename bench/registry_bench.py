"""Registry line of `make bench`: search registered models among 10,000 with a `name LIKE` filter.

For each peer: a fresh PostgreSQL database, the server started through loadgen's `start`, the
models created over REST (8 concurrent clients), then the same filtered search repeated; p50 of
its latency, and a check that it found exactly the models the filter names.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.bench_env import fresh_pg_database, pg_uri

MODELS = 10_000
QUERIES = 50
# 'model-01%' names model-01000 .. model-01999 of model-00000 .. model-09999: 1,000 matches,
# fetched in pages of 100 (the first page is what is timed, as a UI or client sees it).
FILTER = "name LIKE 'model-01%'"
EXPECTED_MATCHES = 1000
API = "/api/2.0/mlflow/registered-models"


def _seed(url: str, count: int) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60.0) as client:

        def create(i: int) -> None:
            client.post(f"{API}/create", json={"name": f"model-{i:05d}"}).raise_for_status()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(count)))
    return time.perf_counter() - started


def _search(url: str) -> tuple[float, bool]:
    times: list[float] = []
    with httpx.Client(base_url=url, timeout=60.0) as client:
        for _ in range(QUERIES):
            t0 = time.perf_counter()
            resp = client.get(f"{API}/search", params={"filter": FILTER, "max_results": 100})
            times.append((time.perf_counter() - t0) * 1000)
            resp.raise_for_status()
        names: list[str] = []
        token = None
        while True:
            params: dict[str, Any] = {"filter": FILTER, "max_results": 1000}
            if token:
                params["page_token"] = token
            body = client.get(f"{API}/search", params=params).json()
            names += [m["name"] for m in body.get("registered_models", [])]
            token = body.get("next_page_token")
            if not token:
                break
    correct = len(names) == EXPECTED_MATCHES and all(n.startswith("model-01") for n in names)
    return statistics.median(times), correct


def registry_round(
    lg: Any, workdir: Path, args: argparse.Namespace, *, started: Any, log: Any
) -> list[dict[str, Any]]:
    """``started``/``log`` are run_bench's (server start through loadgen, progress lines)."""
    records = []
    for peer in args.peer_list:
        with fresh_pg_database(f"reg_{peer}") as db:
            uri = pg_uri(db, explicit_driver=(peer == "mlflow"))
            artifacts = workdir / f"{peer}-{db}-artifacts"
            with started(
                lg, peer, backend_uri=uri, destination=str(artifacts), workdir=workdir, args=args
            ) as (
                url,
                _start,
            ):
                log(f"registry: {peer} seeding {MODELS} registered models")
                seed_s = _seed(url, MODELS)
                p50, correct = _search(url)
        records.append({"peer": peer, "seed_s": seed_s, "search_like_p50_ms": p50, "correct": correct})
    return records


def registry_lines(records: list[dict[str, Any]]) -> str:
    by_peer = {r["peer"]: r for r in records}
    ours, theirs = by_peer.get("runstash", {}), by_peer.get("mlflow", {})
    p50_ours, p50_theirs = ours.get("search_like_p50_ms"), theirs.get("search_like_p50_ms")
    ratio = f"{p50_theirs / p50_ours:.2f}x" if p50_ours and p50_theirs else "-"
    return "\n".join(
        [
            "",
            f"{'registry (10,000 models)':34} {'runstash':>12} {'mlflow':>12} {'runstash adv.':>14}",
            "-" * 75,
            f"{'search name LIKE p50 ms':34} {_fmt(p50_ours):>12} {_fmt(p50_theirs):>12} {ratio:>14}",
            f"{'seeding 10k models s':34} {_fmt(ours.get('seed_s')):>12} {_fmt(theirs.get('seed_s')):>12}",
            f"{'search result correct':34} {ours.get('correct', '-')!s:>12}"
            f" {theirs.get('correct', '-')!s:>12}",
        ]
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
