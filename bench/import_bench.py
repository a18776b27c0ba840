#!/usr/bin/env python3
"""Import speed: `runstash import` from a real `mlflow server` (3.17.2, .venv-mlflow) on PostgreSQL
into a runstash server on PostgreSQL, both on this machine.

Two timed imports from the same source: first runs holding only metric histories (metric points
per second), then, with those runs already done, runs holding only artifact files (MiB per second
through both servers' artifact proxies). Both are timed twice: reading the source's REST API, and
reading its PostgreSQL database directly (``--from postgresql://…``, artifacts from its artifacts
directory) into a second runstash. The source is seeded over its REST API beforehand (not timed).

    .venv/bin/python bench/import_bench.py                     # 4 runs x 100,000 points, 4 x 32 MiB
    .venv/bin/python bench/import_bench.py --points 20000 --mib 16
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_env import free_port, fresh_pg_database, pg_uri

ROOT = Path(__file__).resolve().parent.parent
API = "/api/2.0/mlflow"
MIB = 1024 * 1024


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    # mlflow runs all its migrations on a fresh database before it answers: minutes when loaded.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server at {url} exited with {proc.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)  # polling a health endpoint, bounded by the deadline
    raise TimeoutError(f"{url} not healthy within {timeout} s")


@contextlib.contextmanager
def _server(argv: list[str], workdir: Path, name: str) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    log = (workdir / f"{name}.log").open("wb")
    args = [*argv, "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(30)
        log.close()


def _seed_metrics(url: str, runs: int, points: int) -> None:
    with httpx.Client(base_url=url + API, timeout=120) as http:
        eid = http.post("/experiments/create", json={"name": f"metrics-{secrets.token_hex(3)}"}).json()[
            "experiment_id"
        ]
        for r in range(runs):
            run_id = http.post("/runs/create", json={"experiment_id": eid, "run_name": f"r{r}"}).json()[
                "run"
            ]["info"]["run_id"]
            for start in range(0, points, 1000):
                metrics = [
                    {"key": "loss", "value": 1 / (i + 1), "timestamp": 1_700_000_000_000 + i, "step": i}
                    for i in range(start, min(start + 1000, points))
                ]
                http.post("/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).raise_for_status()


def _seed_artifacts(url: str, files: int, mib: int) -> None:
    with httpx.Client(base_url=url, timeout=600) as http:
        eid = http.post(f"{API}/experiments/create", json={"name": f"files-{secrets.token_hex(3)}"}).json()[
            "experiment_id"
        ]
        run = http.post(f"{API}/runs/create", json={"experiment_id": eid}).json()["run"]["info"]
        rel = run["artifact_uri"].removeprefix("mlflow-artifacts:").strip("/")

        def chunks() -> Iterator[bytes]:
            block = os.urandom(MIB)
            for _ in range(mib):
                yield block

        for i in range(files):
            path = f"/api/2.0/mlflow-artifacts/artifacts/{rel}/blob-{i}.bin"
            http.put(path, content=chunks()).raise_for_status()


QUICK = {"runs": 2, "points": 20_000, "files": 2, "mib": 16}


def _import(source: str, target: str, state: Path, *extra: str) -> tuple[float, str]:
    argv = [str(ROOT / ".venv" / "bin" / "runstash"), "import", "--from", source, "--to", target, *extra]
    started = time.perf_counter()
    done = subprocess.run([*argv, "--state-file", str(state)], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr + done.stdout)
    return elapsed, done.stdout.strip()


def _runstash(stack: contextlib.ExitStack, work: Path, name: str) -> str:
    db = stack.enter_context(fresh_pg_database(f"import_{name}"))
    argv = [str(ROOT / ".venv" / "bin" / "runstash"), "server", "--no-access-log",
            "--backend-store-uri", pg_uri(db, explicit_driver=False),
            "--artifacts-destination", str(work / f"{name}-artifacts")]  # fmt: skip
    return str(stack.enter_context(_server(argv, work, name)))


def run(*, runs: int = 4, points: int = 100_000, files: int = 4, mib: int = 32) -> dict[str, Any]:
    """Import speed from a real mlflow server on PostgreSQL: metric points/s and artifact MiB/s,
    from its REST API and from its database."""
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="import-bench-")))
        source_db = stack.enter_context(fresh_pg_database("import_src"))
        mlflow = [str(ROOT / ".venv-mlflow" / "bin" / "mlflow"), "server", "--workers", "1"]
        source = stack.enter_context(
            _server(
                [*mlflow, "--backend-store-uri", pg_uri(source_db, explicit_driver=True),
                 "--artifacts-destination", str(work / "mlflow-artifacts")],
                work, "mlflow",
            )
        )  # fmt: skip
        target, db_target = _runstash(stack, work, "dst"), _runstash(stack, work, "dbdst")
        artifacts = str(work / "mlflow-artifacts")
        database = (pg_uri(source_db, explicit_driver=False), "--source-artifacts", artifacts)
        _seed_metrics(source, runs, points)
        metrics_s, metrics_line = _import(source, target, work / "rest.state")
        db_metrics_s, _ = _import(database[0], db_target, work / "db.state", *database[1:])
        _seed_artifacts(source, files, mib)
        files_s, files_line = _import(source, target, work / "rest.state")
        db_files_s, _ = _import(database[0], db_target, work / "db.state", *database[1:])
    return {
        "metric_points": runs * points,
        "metric_points_per_s": runs * points / metrics_s,
        "artifact_mib": files * mib,
        "artifact_mib_per_s": files * mib / files_s,
        "db_metric_points_per_s": runs * points / db_metrics_s,
        "db_artifact_mib_per_s": files * mib / db_files_s,
        "metrics_import_s": metrics_s,
        "artifacts_import_s": files_s,
        "summaries": [metrics_line, files_line],
        "load_average": os.getloadavg(),
    }


def line(result: dict[str, Any]) -> str:
    """The `make bench` line."""
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    return (
        f"import from mlflow on PostgreSQL ({result['metric_points']:,} points, "
        f"{result['artifact_mib']} MiB): "
        f"REST source {result['metric_points_per_s']:,.0f} metric points/s, "
        f"{result['artifact_mib_per_s']:.1f} artifact MiB/s; database source "
        f"{result['db_metric_points_per_s']:,.0f} points/s, {result['db_artifact_mib_per_s']:.1f} MiB/s "
        f"(load {load})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--points", type=int, default=100_000, help="metric points per run")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--mib", type=int, default=32, help="MiB per artifact file")
    args = parser.parse_args()
    result = run(runs=args.runs, points=args.points, files=args.files, mib=args.mib)
    print(json.dumps(result, indent=1))
    print(line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
