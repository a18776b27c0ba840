#!/usr/bin/env python3
"""`make bench`: runstash against the real `mlflow server`, same machine, same PostgreSQL, one run.

For each round and each peer (order alternates between rounds): a fresh PostgreSQL database, the
server started by the shared load generator (`start`: cold start + idle RSS), W1-W4 with the
server's and PostgreSQL's RSS/CPU watched, then `stop`. Then W5 (a 256 MiB file up and down
through the artifact proxy) for both peers on local disk and on S3 (SeaweedFS), beside boto3
writing to the same S3 directly. Results go to bench/results/<timestamp>.json; a table with
ratios is printed (medians over rounds).

    .venv/bin/python bench/run_bench.py            # full sizes (the shared bench defaults)
    .venv/bin/python bench/run_bench.py --quick    # smaller sizes, a few minutes
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import grpc_ingest, import_bench, registry_bench, scale_bench
from bench.auth_round import auth_round, auth_table
from bench.bench_env import S3, free_port, fresh_pg_database, pg_uri, postmaster_pid, seaweedfs
from bench.optional_benches import optional_benches, optional_lines

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MEMBERS = ("protos/python", "services/metadata", "services/artifacts", "gateway", "clients/python", "server")
# The shared load generator lives in shared/ beside the checkout (as CI lays it out).
DEFAULT_LOADGEN = Path(os.environ.get("RUNSTASH_LOADGEN", ROOT.parent / "shared" / "bench" / "loadgen.py"))
PEERS = ("runstash", "mlflow")
MIB = 1024 * 1024

QUICK = [
    "--w1-duration=10",
    "--w2-duration=10",
    "--w3-runs=2000",
    "--w3-query-reps=10",
    "--w4-points=200000",
    "--w4-small-points=2000",
    "--w4-bulk-reps=3",
]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# driving loadgen


class Loadgen:
    def __init__(self, path: Path, extra_args: Sequence[str]) -> None:
        if not path.exists():
            raise SystemExit(f"load generator not found at {path} (set RUNSTASH_LOADGEN)")
        self.path = path
        self.extra_args = list(extra_args)

    def run(self, url: str, workloads: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        """Runs loadgen; returns its JSON records keyed by workload (progress goes to our stderr)."""
        argv = [
            sys.executable,
            str(self.path),
            "--url",
            url,
            "--workloads",
            workloads,
            *self.extra_args,
            *args,
        ]
        proc = subprocess.run(
            argv, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, check=False
        )
        records: dict[str, Any] = {}
        for raw in proc.stdout.splitlines():
            line = raw.strip()
            if line.startswith("{"):
                record = json.loads(line)
                records[record["workload"]] = record
        if proc.returncode != 0:
            records["loadgen_exit_code"] = proc.returncode
        return records


def server_command(peer: str, backend_uri: str, destination: str, port: int, args: argparse.Namespace) -> str:
    if peer == "runstash":
        argv = [
            str(ROOT / ".venv" / "bin" / "runstash"),
            "server",
            "--backend-store-uri",
            backend_uri,
            "--artifacts-destination",
            destination,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        if args.runstash_workers:
            argv += ["--workers", str(args.runstash_workers)]
    else:
        argv = [
            str(ROOT / ".venv-mlflow" / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            backend_uri,
            "--artifacts-destination",
            destination,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.mlflow_workers),
        ]
    return shlex.join(argv)


@contextlib.contextmanager
def started(
    lg: Loadgen,
    peer: str,
    *,
    backend_uri: str,
    destination: str,
    workdir: Path,
    args: argparse.Namespace,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Starts a peer through loadgen's `start` (cold start, idle RSS); yields (url, start record)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = server_command(peer, backend_uri, destination, port, args)
    log_path = workdir / f"{peer}-{port}.log"
    rec = lg.run(
        url,
        "start",
        "--server-cmd",
        cmd,
        "--server-log",
        str(log_path),
        "--server-cwd",
        str(workdir),
        f"--settle-s={args.settle_s}",
        env=env,
    ).get("start", {})
    if not rec.get("started"):
        tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
        raise RuntimeError(f"{peer} did not start: {rec}\n{tail}")
    try:
        yield url, rec
    finally:
        lg.run(url, "stop", f"--server-pid={rec['pid']}")


def metadata_round(lg: Loadgen, peer: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    db_pid = postmaster_pid()
    with fresh_pg_database(peer) as db:
        uri = pg_uri(db, explicit_driver=(peer == "mlflow"))
        artifacts = workdir / f"{peer}-{db}-artifacts"
        with started(lg, peer, backend_uri=uri, destination=str(artifacts), workdir=workdir, args=args) as (
            url,
            start,
        ):
            log(f"{peer}: cold start {start.get('cold_start_s')} s; running {args.workloads}")
            watch = [f"--server-pid={start['pid']}"] + ([f"--db-pid={db_pid}"] if db_pid else [])
            records = lg.run(url, args.workloads, *watch, f"--label={peer}")
    return {"peer": peer, "start": start, **records}


def w5_round(
    lg: Loadgen, peer: str, storage: str, *, s3: S3 | None, workdir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    backend = f"sqlite:///{workdir / f'w5-{peer}-{storage}-{time.monotonic_ns()}.db'}"
    env: dict[str, str] = {}
    if storage == "s3":
        assert s3 is not None
        destination = f"s3://{s3.bucket}/{peer}"
        env = s3.env()
    else:
        destination = str(workdir / f"w5-{peer}-artifacts")
    with started(
        lg, peer, backend_uri=backend, destination=destination, workdir=workdir, args=args, env=env
    ) as (url, start):
        rec = lg.run(
            url,
            "w5",
            f"--server-pid={start['pid']}",
            f"--w5-mib={args.w5_mib}",
            f"--tmpdir={workdir}",
            f"--label={peer}-{storage}",
            env=env,
        )
    return {"peer": peer, "storage": storage, "start": start, **rec}


def boto3_direct(s3: S3, workdir: Path, mib: int) -> dict[str, Any]:
    """The S3 ceiling: the same file size written and read by boto3 straight to SeaweedFS."""
    src = workdir / "boto3-src.bin"
    with src.open("wb") as f:
        for _ in range(mib):
            f.write(os.urandom(MIB))
    client: Any = s3.client()
    key = "direct/blob.bin"
    t0 = time.perf_counter()
    client.upload_file(str(src), s3.bucket, key)
    up = time.perf_counter() - t0
    dst = workdir / "boto3-dst.bin"
    t0 = time.perf_counter()
    client.download_file(s3.bucket, key, str(dst))
    down = time.perf_counter() - t0
    ok = dst.stat().st_size == src.stat().st_size
    src.unlink()
    dst.unlink()
    return {
        "mib": mib,
        "upload_mib_per_s": round(mib / up, 1),
        "download_mib_per_s": round(mib / down, 1),
        "size_match": ok,
    }


# ------------------------------------------------------------------------------------------------
# the table


def dig(record: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


HIGHER, LOWER = "higher", "lower"
METADATA_ROWS: list[tuple[str, str, str]] = [
    ("w1 log-batch points/s", "w1.metric_points_per_s", HIGHER),
    ("w1 p50 ms", "w1.latency_ms.p50", LOWER),
    ("w1 p99 ms", "w1.latency_ms.p99", LOWER),
    ("w1 server CPU s", "w1.server.cpu_s", LOWER),
    ("w1 errors", "w1.errors", LOWER),
    ("w2 log-metric requests/s", "w2.requests_per_s", HIGHER),
    ("w2 p50 ms", "w2.latency_ms.p50", LOWER),
    ("w2 p99 ms", "w2.latency_ms.p99", LOWER),
    ("w2 server CPU s", "w2.server.cpu_s", LOWER),
    ("w3 seeding runs/s", "w3.seed_runs_per_s", HIGHER),
    ("w3 search no filter p50 ms", "w3.a_no_filter.latency_ms.p50", LOWER),
    ("w3 search filter+order p50 ms", "w3.b_filter.latency_ms.p50", LOWER),
    ("w3 page through all runs s", "w3.c_paging.total_s_p50", LOWER),
    ("w4 seeding points/s", "w4.seed_points_per_s", HIGHER),
    ("w4 history, one request s", "w4.history_unpaged.seconds", LOWER),
    ("w4 history, paged s", "w4.history_paged.seconds", LOWER),
    ("w4 bulk-interval p50 ms", "w4.bulk_interval.latency_ms.p50", LOWER),
    ("cold start s", "start.cold_start_s", LOWER),
    ("idle RSS MiB", "start.idle.rss_mib", LOWER),
    ("RSS after W1-W4 MiB", "w4.server.rss_mib_after", LOWER),
    ("server processes", "w4.server.processes", LOWER),
]
CORRECTNESS = [
    ("w1 read-back matches", "w1.verify.match"),
    ("w2 read-back matches", "w2.verify.match"),
    ("w3 filter result correct", "w3.b_filter.correct"),
    ("w3 paging complete", "w3.c_paging.match"),
    ("w4 history complete (one request)", "w4.history_unpaged.match"),
    ("w4 history complete (paged)", "w4.history_paged.match"),
]


def median_of(records: list[dict[str, Any]], dotted: str) -> float | None:
    values = [
        v for v in (dig(r, dotted) for r in records) if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return statistics.median(values) if values else None


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def advantage(ours: float | None, theirs: float | None, better: str) -> str:
    """How many times better runstash is (>1 = better), by the metric's direction."""
    if ours is None or theirs is None or ours == 0 or theirs == 0:
        return "-"
    ratio = ours / theirs if better == HIGHER else theirs / ours
    return f"{ratio:.2f}x"


def table(results: dict[str, Any]) -> str:
    by_peer = {p: [r for r in results["metadata"] if r["peer"] == p] for p in PEERS}
    lines = [f"{'metric':34} {'runstash':>12} {'mlflow':>12} {'runstash adv.':>14}", "-" * 75]
    for label, dotted, better in METADATA_ROWS:
        ours, theirs = median_of(by_peer["runstash"], dotted), median_of(by_peer["mlflow"], dotted)
        lines.append(f"{label:34} {fmt(ours):>12} {fmt(theirs):>12} {advantage(ours, theirs, better):>14}")
    for label, dotted in CORRECTNESS:
        cells = [",".join(str(dig(r, dotted)) for r in by_peer[p]) or "-" for p in PEERS]
        lines.append(f"{label:34} {cells[0]:>12} {cells[1]:>12}")
    w5 = results.get("w5", [])
    if w5:
        lines += [
            "",
            f"{'w5 artifacts (MiB/s)':34} {'runstash':>12} {'mlflow':>12} {'runstash adv.':>14}"
            f" {'boto3 direct':>13}",
            "-" * 89,
        ]
        direct = results.get("boto3_direct") or {}
        for storage in ("local", "s3"):
            for direction in ("upload", "download"):
                key = f"w5.{direction}_mib_per_s"
                vals = {
                    p: median_of([r for r in w5 if r["peer"] == p and r["storage"] == storage], key)
                    for p in PEERS
                }
                ceiling = direct.get(f"{direction}_mib_per_s") if storage == "s3" else None
                lines.append(
                    f"{storage + ' ' + direction:34} {fmt(vals['runstash']):>12} {fmt(vals['mlflow']):>12} "
                    f"{advantage(vals['runstash'], vals['mlflow'], HIGHER):>14} {fmt(ceiling):>13}"
                )
        for p in PEERS:
            shas = [dig(r, "w5.sha256_match") for r in w5 if r["peer"] == p]
            lines.append(f"{'w5 sha256 match ' + p:34} {','.join(map(str, shas)):>12}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians are reported)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes (W1/W2 10 s, W3 2k runs, W4 200k points, W5 64 MiB)",
    )
    p.add_argument("--workloads", default="w1,w2,w3,w4", help="metadata workloads per peer")
    p.add_argument("--peers", default=",".join(PEERS))
    p.add_argument("--no-w5", action="store_true")
    p.add_argument("--no-auth", action="store_true", help="skip W1/W2 with auth off and on")
    p.add_argument("--no-grpc", action="store_true", help="skip W1 over the gRPC ingest stream")
    p.add_argument("--no-registry", action="store_true", help="skip the registry search line")
    p.add_argument("--no-traces", action="store_true", help="skip the trace ingest/search line")
    p.add_argument("--no-import", action="store_true", help="skip the import-from-mlflow line")
    p.add_argument(
        "--trace-scale",
        type=int,
        default=0,
        help="also trace search over N generated traces (1000000: the issue's line; ~40 min on 2 busy cores)",
    )
    p.add_argument(
        "--w7",
        action="store_true",
        help="W7 scale: a big generated PostgreSQL database (10k runs / 5M points; minutes)",
    )
    p.add_argument("--w7-full", action="store_true", help="W7 at 100k runs / 50M points (tens of minutes)")
    p.add_argument("--w7-w1-s", type=int, default=20, help="W1 duration on the empty and the full database")
    p.add_argument("--w7-runs", type=int, default=None, help="W7 runs (overrides the size chosen above)")
    p.add_argument("--w7-points", type=int, default=None, help="W7 points (with --w7-runs)")
    p.add_argument("--w5-mib", type=int, default=None)
    p.add_argument("--runstash-workers", type=int, default=None, help="default: runstash's own default")
    p.add_argument("--mlflow-workers", type=int, default=4)
    p.add_argument("--settle-s", type=float, default=5.0, help="idle time before sampling idle RSS")
    p.add_argument("--loadgen", type=Path, default=DEFAULT_LOADGEN)
    p.add_argument("--loadgen-arg", action="append", default=[], help="extra loadgen argument (repeatable)")
    p.add_argument("--results-dir", type=Path, default=RESULTS)
    a = p.parse_args(argv)
    if a.w5_mib is None:
        a.w5_mib = 64 if a.quick else 256
    a.peer_list = [x for x in a.peers.split(",") if x]
    return a


def compile_bytecode() -> None:
    """Both peers start from bytecode, as installed wheels do (pip compiles at install; uv does
    not, and PYTHONDONTWRITEBYTECODE=1 keeps Python from writing it): without it every cold start
    compiles every module again. A no-op once compiled; files that do not compile are ignored."""
    targets = [ROOT / ".venv", ROOT / ".venv-mlflow", *(ROOT / m for m in MEMBERS)]
    argv = [sys.executable, "-m", "compileall", "-q", "-j", "0", *(str(t) for t in targets if t.exists())]
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    compile_bytecode()
    lg = Loadgen(args.loadgen, (QUICK if args.quick else []) + args.loadgen_arg)
    results: dict[str, Any] = {
        "meta": {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "args": {k: str(v) for k, v in vars(args).items()},
            "nproc": os.cpu_count(),
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "metadata": [],
        "w5": [],
    }
    with tempfile.TemporaryDirectory(prefix="runstash-bench-") as tmp:
        workdir = Path(tmp)
        for rnd in range(args.rounds):
            order = args.peer_list if rnd % 2 == 0 else list(reversed(args.peer_list))
            for peer in order:
                log(f"round {rnd + 1}/{args.rounds}: {peer} on PostgreSQL")
                results["metadata"].append({"round": rnd, **metadata_round(lg, peer, workdir, args)})
            for auth in [] if args.no_auth else ([False, True] if rnd % 2 == 0 else [True, False]):
                log(f"round {rnd + 1}/{args.rounds}: runstash W1/W2 with auth {'on' if auth else 'off'}")
                results.setdefault("auth", []).append(auth_round(lg, workdir, args, auth))
        if not args.no_grpc:
            grpc_ingest.run_for(results, workdir, quick=args.quick)
        if not args.no_registry:
            results["registry"] = registry_bench.registry_round(lg, workdir, args, started=started, log=log)
        if not args.no_import:
            log("import: runstash import from an mlflow server on PostgreSQL")
            results["import"] = import_bench.run(**(import_bench.QUICK if args.quick else {}))
        optional_benches(results, workdir, args, log=log)
        if args.w7 or args.w7_full:
            results["w7"] = scale_bench.run(lg, workdir, args, started=started, log=log)
        if not args.no_w5:
            (workdir / "seaweedfs").mkdir()
            with seaweedfs(ROOT / ".venv" / "bin" / "weed", workdir / "seaweedfs") as s3:
                for storage in ("local", "s3"):
                    for peer in args.peer_list:
                        log(f"w5 {args.w5_mib} MiB: {peer} on {storage}")
                        results["w5"].append(w5_round(lg, peer, storage, s3=s3, workdir=workdir, args=args))
                log("w5: boto3 straight to S3")
                results["boto3_direct"] = boto3_direct(s3, workdir, args.w5_mib)
    results["meta"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["meta"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(results, indent=1))
    print(table(results))
    if results.get("registry"):
        print(registry_bench.registry_lines(results["registry"]))
    if results.get("grpc"):
        print("\n" + grpc_ingest.table(results))
    if results.get("import"):
        print("\n" + import_bench.line(results["import"]))
    for line in optional_lines(results):
        print(line)
    if results.get("w7"):
        print("\n".join(scale_bench.lines(results["w7"])))
    if results.get("auth"):
        print(auth_table(results["auth"], median_of, fmt))
    meta = results["meta"]
    print(f"\nload average (1/5/15 min) at start {meta['loadavg_start']}, at end {meta['loadavg_end']}")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
