"""W1 and W2 against runstash with auth off and on, in the same run (auth must cost <= 10%).

:func:`run` is the whole line (both settings, interleaved rounds, the cost of each metric and the
worst of them); ``python -m bench.auth_round [--quick] [--rounds N]`` runs it alone.

With auth on, the load runs as a non-admin user (admins skip permission checks): it creates its
own experiments, so every log-batch/log-metric goes through the full decision (credential cache,
the run's experiment, the user's grants). The credentials ride in the URL (aiohttp sends them as
Basic auth), so the shared load generator needs no change.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.bench_env import free_port, fresh_pg_database, pg_uri, postmaster_pid

ROOT = Path(__file__).resolve().parent.parent
ADMIN = ("admin", "bench-admin-password")
USER = ("bench", "bench-user-password")
ROWS = [
    ("w1 log-batch points/s", "w1.metric_points_per_s", "higher"),
    ("w1 p50 ms", "w1.latency_ms.p50", "lower"),
    ("w2 log-metric requests/s", "w2.requests_per_s", "higher"),
    ("w2 p50 ms", "w2.latency_ms.p50", "lower"),
    ("w2 p99 ms", "w2.latency_ms.p99", "lower"),
]


def _create_user(url: str) -> None:
    token = base64.b64encode(":".join(ADMIN).encode()).decode()
    request = urllib.request.Request(
        url + "/api/2.0/mlflow/users/create",
        data=json.dumps({"username": USER[0], "password": USER[1]}).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def auth_round(lg: Any, workdir: Path, args: argparse.Namespace, auth: bool) -> dict[str, Any]:
    label = "auth-on" if auth else "auth-off"
    db_pid = postmaster_pid()
    with fresh_pg_database(label.replace("-", "_")) as db:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [
            str(ROOT / ".venv" / "bin" / "runstash"), "server", "--port", str(port),
            "--backend-store-uri", pg_uri(db, explicit_driver=False),
            "--artifacts-destination", str(workdir / f"{label}-artifacts"),
        ]  # fmt: skip
        if args.runstash_workers:
            argv += ["--workers", str(args.runstash_workers)]
        env = {"MLFLOW_AUTH_ADMIN_USERNAME": ADMIN[0], "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1]}
        if auth:
            argv += ["--app-name", "basic-auth"]
        log_path = workdir / f"{label}-{port}.log"
        start = lg.run(
            url, "start", "--server-cmd", shlex.join(argv), "--server-log", str(log_path),
            "--server-cwd", str(workdir), f"--settle-s={args.settle_s}", env=env,
        ).get("start", {})  # fmt: skip
        if not start.get("started"):
            raise RuntimeError(f"runstash ({label}) did not start: {start}")
        try:
            load_url = url
            if auth:
                _create_user(url)
                load_url = f"http://{USER[0]}:{USER[1]}@127.0.0.1:{port}"
            watch = [f"--server-pid={start['pid']}"] + ([f"--db-pid={db_pid}"] if db_pid else [])
            records = lg.run(load_url, "w1,w2", *watch, f"--label={label}")
        finally:
            lg.run(url, "stop", f"--server-pid={start['pid']}")
    return {"auth": auth, **records}


def auth_table(records: list[dict[str, Any]], median_of: Any, fmt: Any) -> str:
    off = [r for r in records if not r["auth"]]
    on = [r for r in records if r["auth"]]
    lines = ["", f"{'runstash, auth':34} {'off':>12} {'on':>12} {'auth cost':>14}", "-" * 75]
    for label, dotted, better in ROWS:
        a, b = median_of(off, dotted), median_of(on, dotted)
        cost = "-"
        if a and b:
            cost = f"{(a / b - 1 if better == 'higher' else b / a - 1) * 100:+.1f}%"
        lines.append(f"{label:34} {fmt(a):>12} {fmt(b):>12} {cost:>14}")
    return "\n".join(lines)


def _value(record: dict[str, Any], dotted: str) -> float | None:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def costs(records: list[dict[str, Any]]) -> dict[str, float | None]:
    """Per metric: what auth costs in percent (medians of the rounds; > 0 means slower with auth)."""
    found: dict[str, float | None] = {}
    for label, dotted, better in ROWS:
        off = [v for r in records if not r["auth"] and (v := _value(r, dotted)) is not None]
        on = [v for r in records if r["auth"] and (v := _value(r, dotted)) is not None]
        if not off or not on:
            found[label] = None
            continue
        a, b = statistics.median(off), statistics.median(on)
        found[label] = round((a / b - 1 if better == "higher" else b / a - 1) * 100, 1)
    return found


def run(
    lg: Any = None,
    workdir: Path | None = None,
    *,
    quick: bool = False,
    rounds: int = 1,
    runstash_workers: int | None = None,
    settle_s: float = 5.0,
    target_pct: float = 10.0,
) -> dict[str, Any]:
    """Auth off and on, ``rounds`` times (the order alternates); returns the records, the cost of
    each metric, the worst throughput cost and whether it is within ``target_pct``."""
    from bench.run_bench import DEFAULT_LOADGEN, QUICK, Loadgen

    lg = lg or Loadgen(DEFAULT_LOADGEN, QUICK if quick else [])
    args = argparse.Namespace(runstash_workers=runstash_workers, settle_s=settle_s)
    loadavg = Path("/proc/loadavg").read_text().split()[:3]
    records = []
    with tempfile.TemporaryDirectory(prefix="runstash-auth-") as tmp:
        for rnd in range(rounds):
            for auth in (False, True) if rnd % 2 == 0 else (True, False):
                records.append(auth_round(lg, workdir or Path(tmp), args, auth))
    cost = costs(records)
    throughput = [c for label, c in cost.items() if c is not None and "/s" in label]
    worst = max(throughput) if throughput else None
    return {
        "records": records,
        "cost_pct": cost,
        "throughput_cost_pct": worst,
        "within_target": worst is not None and worst <= target_pct,
        "target_pct": target_pct,
        "loadavg_start": loadavg,
        "loadavg_end": Path("/proc/loadavg").read_text().split()[:3],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--runstash-workers", type=int, default=None)
    a = p.parse_args(argv)
    result = run(quick=a.quick, rounds=a.rounds, runstash_workers=a.runstash_workers)
    out = ROOT / "bench" / "results" / f"auth-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    summary = {k: v for k, v in result.items() if k != "records"}
    print(json.dumps(summary, indent=1))
    print(f"results: {out}", file=sys.stderr)
    return 0 if os.environ.get("RUNSTASH_BENCH_STRICT") != "1" or result["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
