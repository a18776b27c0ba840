"""W1 and W2 against runstash with auth off and on, in the same run (auth must cost <= 10%).

With auth on, the load runs as a non-admin user (admins skip permission checks): it creates its
own experiments, so every log-batch/log-metric goes through the full decision (credential cache,
the run's experiment, the user's grants). The credentials ride in the URL (aiohttp sends them as
Basic auth), so the shared load generator needs no change.
"""

from __future__ import annotations

import argparse
import base64
import json
import shlex
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
