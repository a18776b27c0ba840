"""Registry line of `make bench`: search registered models among 10,000 with a `name LIKE` filter.

For each peer, in the same run: a fresh PostgreSQL database, the server started here (its own
process group), the models created over REST (8 concurrent clients), then the same filtered search
repeated; p50 of its latency, and a check that it found exactly the models the filter names.

The real ``mlflow server`` is started with its GenAI job runner off
(``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``: about ten huey consumer processes that this
workload never uses) and a start-up bound of minutes, not loadgen's 180 s: on the shared 2-core
machine under load, that runner is what kept mlflow from answering /health in time.

``run(...)`` is the line; ``python -m bench.registry_bench [--peers runstash,mlflow]`` runs it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.bench_env import free_port, fresh_pg_database, pg_uri

ROOT = Path(__file__).resolve().parent.parent
MODELS = 10_000
QUERIES = 50
# 'model-01%' names model-01000 .. model-01999 of model-00000 .. model-09999: 1,000 matches,
# fetched in pages of 100 (the first page is what is timed, as a UI or client sees it).
FILTER = "name LIKE 'model-01%'"
API = "/api/2.0/mlflow/registered-models"
START_TIMEOUT_S = 600.0
MLFLOW_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}


def _command(peer: str, uri: str, artifacts: Path, port: int, mlflow_workers: int) -> list[str]:
    common = ["--backend-store-uri", uri, "--artifacts-destination", str(artifacts)]
    common += ["--host", "127.0.0.1", "--port", str(port)]
    if peer == "runstash":
        return [str(ROOT / ".venv" / "bin" / "runstash"), "server", *common]
    return [
        str(ROOT / ".venv-mlflow" / "bin" / "mlflow"),
        "server",
        *common,
        "--workers",
        str(mlflow_workers),
    ]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def serving(peer: str, uri: str, workdir: Path, *, mlflow_workers: int = 2) -> Iterator[tuple[str, float]]:
    """The peer on a free port until the block ends; yields (url, seconds it took to be healthy)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = _command(peer, uri, workdir / f"{peer}-artifacts", port, mlflow_workers)
    log_path = workdir / f"{peer}-{port}.log"
    env = {**os.environ, **(MLFLOW_ENV if peer == "mlflow" else {})}
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            argv, stdout=log_file, stderr=subprocess.STDOUT, cwd=workdir, env=env, start_new_session=True
        )
        started = time.monotonic()
        try:
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() - started > START_TIMEOUT_S:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{peer} did not start (exit {proc.poll()}):\n{tail}")
                time.sleep(0.5)  # polling /health with a bound, not waiting blind
            yield url, time.monotonic() - started
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _seed(url: str, count: int) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=120.0) as client:

        def create(i: int) -> None:
            client.post(f"{API}/create", json={"name": f"model-{i:05d}"}).raise_for_status()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(count)))
    return time.perf_counter() - started


def _matches(models: int) -> int:
    return sum(1 for i in range(models) if f"model-{i:05d}".startswith("model-01"))


def _search(url: str, queries: int, expected: int) -> tuple[float, bool]:
    times: list[float] = []
    with httpx.Client(base_url=url, timeout=60.0) as client:
        for _ in range(queries):
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
    correct = len(names) == expected and all(n.startswith("model-01") for n in names)
    return statistics.median(times), correct


def run(
    workdir: Path | None = None,
    *,
    peers: Sequence[str] = ("runstash", "mlflow"),
    models: int = MODELS,
    queries: int = QUERIES,
    mlflow_workers: int = 2,
    log: Callable[[str], None] = lambda msg: print(f"[registry] {msg}", file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Each peer in turn; returns ``{"records": [...], "advantage": mlflow p50 / runstash p50, ...}``."""
    records: list[dict[str, Any]] = []
    loadavg = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="runstash-registry-") as tmp:
        base = workdir or Path(tmp)
        for peer in peers:
            with fresh_pg_database(f"reg_{peer}") as db:
                uri = pg_uri(db, explicit_driver=(peer == "mlflow"))
                with serving(peer, uri, base, mlflow_workers=mlflow_workers) as (url, start_s):
                    log(f"{peer}: healthy after {start_s:.1f} s; seeding {models} registered models")
                    seed_s = _seed(url, models)
                    p50, correct = _search(url, queries, _matches(models))
                    log(f"{peer}: search p50 {p50:.1f} ms, correct={correct}")
            records.append(
                {
                    "peer": peer,
                    "start_s": start_s,
                    "seed_s": seed_s,
                    "search_like_p50_ms": p50,
                    "correct": correct,
                }
            )
    medians: dict[str, Any] = {r["peer"]: r["search_like_p50_ms"] for r in records}
    ours, theirs = medians.get("runstash"), medians.get("mlflow")
    return {
        "records": records,
        "models": models,
        "filter": FILTER,
        "advantage": theirs / ours if ours and theirs else None,
        "loadavg_start": loadavg,
        "loadavg_end": Path("/proc/loadavg").read_text().split()[:3],
    }


def registry_round(
    lg: Any, workdir: Path, args: argparse.Namespace, *, started: Any, log: Any
) -> list[dict[str, Any]]:
    """The hook run_bench calls (its loadgen-based ``started`` is not used: see the docstring)."""
    return list(run(workdir, peers=args.peer_list, log=log)["records"])


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


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--peers", default="runstash,mlflow")
    p.add_argument("--models", type=int, default=MODELS)
    a = p.parse_args(argv)
    result = run(peers=[x for x in a.peers.split(",") if x], models=a.models)
    out = ROOT / "bench" / "results" / f"registry-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    print(registry_lines(result["records"]))
    return 0 if all(r["correct"] for r in result["records"]) else 1


if __name__ == "__main__":
    sys.exit(main())
