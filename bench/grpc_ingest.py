"""W1 over gRPC streaming, and the share of a job's time spent inside async logging calls.

Run by ``bench/run_bench.py`` beside the REST workloads (same PostgreSQL, same run), or alone:

    .venv/bin/python bench/grpc_ingest.py [--duration 30] [--clients 8] [--job-points 1000000]

* ``w1_grpc``: like loadgen's W1 (``--clients`` jobs, each with its own run, 10 keys x 100 steps =
  1000 points per batch), but every job logs as training code does, one
  :meth:`runstash.ingest.AsyncLogger.log_metrics` call (mlflow's ``log_metrics``: a dict of the
  10 keys) per step, and the logger writes them on one ``IngestService.Ingest`` stream as
  column-wise batches instead of one HTTP request per batch; points/s counts acknowledged points
  (the clock stops when the last one is acknowledged); the read-back checks every key's history
  length.
* ``async_job``: one job logs ``--job-points`` points one ``log_metric`` call at a time (10 keys
  per step) and closes the logger; the share is (time inside the logging calls) / (wall time
  until every point is acknowledged). Run with no other work in the loop: the worst case.

The server is ``runstash server --grpc-port`` on a fresh PostgreSQL database; the client runs in
a process of its own (``worker`` subcommand) so that client and server CPU are not mixed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_env import free_port, fresh_pg_database, pg_uri

ROOT = Path(__file__).resolve().parent.parent
KEYS, STEPS = 10, 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def grpc_server(backend_uri: str, workdir: Path) -> Iterator[tuple[str, int]]:
    """``runstash server`` with ``--grpc-port``; yields the gRPC target and the server's pid."""
    port, grpc_port = free_port(), free_port()
    log_file = open(workdir / f"grpc-server-{port}.log", "wb")  # noqa: SIM115 - closed below
    argv = [str(ROOT / ".venv" / "bin" / "runstash"), "server", "--backend-store-uri", backend_uri,
            "--artifacts-destination", str(workdir / "grpc-artifacts"), "--host", "127.0.0.1",
            "--port", str(port), "--grpc-port", str(grpc_port)]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"runstash server did not start (see {log_file.name})") from None
                time.sleep(0.2)
        yield f"127.0.0.1:{grpc_port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log_file.close()


def grpc_round(workdir: Path, *, duration: float, clients: int, job_points: int) -> dict[str, Any]:
    """Both workloads against one fresh server and database; the worker's JSON records, each with
    the server's CPU seconds during it."""
    with (
        fresh_pg_database("grpc") as db,
        grpc_server(pg_uri(db, explicit_driver=False), workdir) as (target, pid),
    ):
        python = str(ROOT / ".venv" / "bin" / "python")
        runs = {
            "w1_grpc": ["--duration", str(duration), "--clients", str(clients)],
            "async_job": ["--job-points", str(job_points)],
        }
        result: dict[str, Any] = {}
        for workload, extra in runs.items():
            cpu_before = cpu_seconds(pid)
            argv = [python, __file__, "worker", workload, "--target", target, *extra]
            out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=1800)
            result[workload] = {
                **json.loads(out.stdout),
                "server_cpu_s": round(cpu_seconds(pid) - cpu_before, 2),
            }
        return result


def run_for(results: dict[str, Any], workdir: Path, *, quick: bool) -> None:
    """The hook of ``run_bench.py``: adds ``results["grpc"]`` (after the REST rounds, same run)."""
    if "runstash" not in {r.get("peer") for r in results["metadata"]}:
        return
    print("[bench] W1 over gRPC streaming + async-logging job", file=sys.stderr, flush=True)
    results["grpc"] = grpc_round(
        workdir, duration=10 if quick else 30, clients=8, job_points=200_000 if quick else 1_000_000
    )
    print(table(results), file=sys.stderr, flush=True)


def _cpu_us_per_point(cpu_s: Any, points: Any) -> str:
    return f"{cpu_s * 1e6 / points:.1f}" if cpu_s and points else "-"


def table(results: dict[str, Any]) -> str:
    """REST W1 (loadgen, the runstash rounds' median) beside W1 over the ingest stream."""
    rest = sorted(
        (r["w1"] for r in results["metadata"] if r.get("peer") == "runstash" and "w1" in r),
        key=lambda w1: float(w1.get("metric_points_per_s") or 0),
    )
    rest_w1: dict[str, Any] = rest[len(rest) // 2] if rest else {}
    grpc = results.get("grpc", {})
    w1: dict[str, Any] = grpc.get("w1_grpc", {})
    job: dict[str, Any] = grpc.get("async_job", {})
    rest_rate, rate = rest_w1.get("metric_points_per_s"), w1.get("metric_points_per_s")
    ratio = f"{rate / rest_rate:.2f}x" if rate and rest_rate else "-"
    rest_cpu = _cpu_us_per_point((rest_w1.get("server") or {}).get("cpu_s"), rest_w1.get("points_accepted"))
    return "\n".join(
        [
            "| runstash W1 (PostgreSQL) | points/s | server CPU us/point | client CPU us/point | read-back |",
            "| --- | --- | --- | --- | --- |",
            f"| REST log-batch (loadgen) | {rest_rate} | {rest_cpu} | "
            f"{_cpu_us_per_point(rest_w1.get('client_cpu_s'), rest_w1.get('points_accepted'))} | "
            f"{(rest_w1.get('verify') or {}).get('match')} |",
            f"| gRPC ingest stream | {rate} ({ratio} REST) | "
            f"{_cpu_us_per_point(w1.get('server_cpu_s'), w1.get('points_accepted'))} | "
            f"{_cpu_us_per_point(w1.get('client_cpu_s'), w1.get('points_accepted'))} | "
            f"{(w1.get('verify') or {}).get('match')} |",
            f"| async job, {job.get('points')} points: share of wall time inside logging calls | "
            f"{job.get('logging_share')} (wall {job.get('wall_s')} s) | - | - | "
            f"{(job.get('verify') or {}).get('match')} |",
        ]
    )


# ------------------------------------------------------------------------------------------------
# the client side (its own process)


def _log_steps(logger: Any, run_id: str, step0: int, ts0: int) -> None:
    """One W1 batch's points: STEPS steps of KEYS keys, one ``log_metrics`` call per step (the
    values are loadgen's)."""
    keys = [f"k{k}" for k in range(KEYS)]
    for s in range(step0, step0 + STEPS):
        value = (s % 1000) / 1000.0
        logger.log_metrics(run_id, dict.fromkeys(keys, value), step=s, timestamp=ts0 + s)


def w1_grpc(target: str, *, duration: float, clients: int) -> dict[str, Any]:
    from runstash.client import Client
    from runstash.connection import Endpoint
    from runstash.ingest import AsyncLogger

    endpoint = Endpoint.from_uri(target)
    with Client(target) as client:
        experiment = client.create_experiment("w1-grpc")
        runs = [client.create_run(experiment, run_name=f"w1-{i}").info.run_id for i in range(clients)]
        sent = [0] * clients
        ts0 = int(time.time() * 1000)
        start, cpu0 = time.monotonic(), time.process_time()
        deadline = start + duration

        def job(i: int) -> None:
            logger = AsyncLogger(endpoint, window=16)
            try:
                while time.monotonic() < deadline:
                    _log_steps(logger, runs[i], sent[i] * STEPS, ts0)
                    sent[i] += 1
                    # Keep the window full and the queue short (items are steps, STEPS a batch).
                    while logger.backlog > 16 * STEPS:
                        time.sleep(0.01)  # a coarse poll: waking 8 threads per ms costs the client CPU
                logger.flush()
            finally:
                logger.close()

        threads = [threading.Thread(target=job, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = time.monotonic() - start, time.process_time() - cpu0
        points = sum(sent) * KEYS * STEPS
        lengths = [
            len(client.get_metric_history(runs[i], f"k{k}")) == sent[i] * STEPS
            for i in range(clients)
            for k in range(KEYS)
        ]
    return {
        "metric_points_per_s": round(points / wall, 1),
        "points_accepted": points,
        "client_cpu_s": round(cpu, 2),
        "clients": clients,
        "wall_s": round(wall, 2),
        "verify": {"match": all(lengths)},
    }


def async_job(target: str, *, points: int) -> dict[str, Any]:
    from runstash.client import Client
    from runstash.connection import Endpoint
    from runstash.ingest import AsyncLogger

    with Client(target) as client:
        experiment = client.create_experiment("async-job")
        run_id = client.create_run(experiment, run_name="async-job").info.run_id
        steps = points // KEYS
        keys = [f"k{k}" for k in range(KEYS)]
        clock = time.perf_counter
        inside = 0.0
        start = clock()
        logger = AsyncLogger(Endpoint.from_uri(target))
        for step in range(steps):
            t0 = clock()
            for key in keys:
                logger.log_metric(run_id, key, step * 0.001, step)
            inside += clock() - t0
        t0 = clock()
        logger.close()
        close_s = clock() - t0
        wall = clock() - start
        stored = sum(len(client.get_metric_history(run_id, key)) for key in keys)
    return {
        "points": steps * KEYS,
        "wall_s": round(wall, 2),
        "inside_logging_s": round(inside, 3),
        "logging_share": round(inside / wall, 4),
        "close_wait_s": round(close_s, 2),
        "stored": stored,
        "verify": {"match": stored == steps * KEYS},
    }


def worker(argv: Sequence[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["w1_grpc", "async_job"])
    p.add_argument("--target", required=True)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--job-points", type=int, default=1_000_000)
    a = p.parse_args(argv)
    if a.workload == "w1_grpc":
        record = w1_grpc(a.target, duration=a.duration, clients=a.clients)
    else:
        record = async_job(a.target, points=a.job_points)
    print(json.dumps(record))


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["worker"]:
        worker(argv[1:])
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--job-points", type=int, default=1_000_000)
    a = p.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="runstash-grpc-bench-") as tmp:
        record = grpc_round(Path(tmp), duration=a.duration, clients=a.clients, job_points=a.job_points)
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
