#!/usr/bin/env python3
"""W5 alone, repeated: runstash's artifact proxy beside boto3 straight to the same S3, interleaved.

One SeaweedFS and one runstash server (S3 destination, and a second one on a local folder unless
``--no-local``) stay up for the whole run; each repetition runs loadgen's W5 through the proxy and
then boto3's own ``upload_file``/``download_file`` (10 threads, 8 MiB parts) on the same file size,
so both sides see the same machine load. Medians and the proxy/direct ratio are printed. On a
shared machine single samples swing by tens of percent: use ``--reps 5`` or more.

    .venv/bin/python bench/w5_bench.py --reps 5            # 256 MiB, S3 and local
    .venv/bin/python bench/w5_bench.py --reps 3 --mib 64 --no-local
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_env import seaweedfs
from bench.run_bench import DEFAULT_LOADGEN, ROOT, Loadgen, boto3_direct, log, started


def _loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _proxy_w5(
    lg: Loadgen, url: str, pid: int, args: argparse.Namespace, env: dict[str, str]
) -> dict[str, Any]:
    workdir = args.workdir
    rec = lg.run(url, "w5", f"--server-pid={pid}", f"--w5-mib={args.mib}", f"--tmpdir={workdir}", env=env)
    w5 = rec.get("w5", {})
    if not w5.get("sha256_match"):
        raise RuntimeError(f"W5 through the proxy failed: {rec}")
    return dict(w5)


def _summary(samples: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {name: _median(values) for name, values in samples.items()}
    for direction in ("upload", "download"):
        ours, direct = out.get(f"s3_{direction}"), out.get(f"direct_{direction}")
        if ours and direct:
            out[f"s3_{direction}_ratio"] = round(ours / direct, 3)
        pairs = zip(samples.get(f"s3_{direction}", []), samples.get(f"direct_{direction}", []), strict=False)
        ratios = [ours / direct for ours, direct in pairs if direct]
        if ratios:
            out[f"s3_{direction}_ratio_per_rep_median"] = round(statistics.median(ratios), 3)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    lg = Loadgen(args.loadgen, [])
    samples: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        samples.setdefault(name, []).append(value)

    with tempfile.TemporaryDirectory(prefix="runstash-w5-") as tmp:
        workdir = args.workdir = Path(tmp)
        (workdir / "seaweedfs").mkdir()
        with seaweedfs(ROOT / ".venv" / "bin" / "weed", workdir / "seaweedfs") as s3:
            env = s3.env()
            db = f"sqlite:///{workdir / 's3.db'}"
            dest = f"s3://{s3.bucket}/runstash"
            with started(
                lg, "runstash", backend_uri=db, destination=dest, env=env, workdir=workdir, args=args
            ) as (
                url,
                rec,
            ):
                for rep in range(args.reps):
                    proxied = _proxy_w5(lg, url, rec["pid"], args, env)
                    direct = boto3_direct(s3, workdir, args.mib)
                    for direction in ("upload", "download"):
                        add(f"s3_{direction}", proxied[f"{direction}_mib_per_s"])
                        add(f"direct_{direction}", direct[f"{direction}_mib_per_s"])
                    log(
                        f"rep {rep + 1}: proxy {proxied['upload_mib_per_s']}/{proxied['download_mib_per_s']}"
                        f" direct {direct['upload_mib_per_s']}/{direct['download_mib_per_s']} MiB/s up/down,"
                        f" load {_loadavg()}"
                    )
            if not args.no_local:
                db, dest = f"sqlite:///{workdir / 'local.db'}", str(workdir / "local-artifacts")
                with started(
                    lg, "runstash", backend_uri=db, destination=dest, workdir=workdir, args=args
                ) as (
                    url,
                    rec,
                ):
                    for _ in range(args.reps):
                        local = _proxy_w5(lg, url, rec["pid"], args, {})
                        add("local_upload", local["upload_mib_per_s"])
                        add("local_download", local["download_mib_per_s"])
    return {"mib": args.mib, "reps": args.reps, "medians": _summary(samples), "samples": samples}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--mib", type=int, default=256)
    p.add_argument("--no-local", action="store_true", help="skip the local-folder destination")
    p.add_argument("--loadgen", type=Path, default=DEFAULT_LOADGEN)
    p.add_argument("--settle-s", type=float, default=0.5, help="idle time after start (loadgen `start`)")
    args = p.parse_args(argv)
    args.runstash_workers = None  # what `started` reads: runstash's own default
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start_load = _loadavg()
    result = run(args)
    result["loadavg"] = {"start": start_load, "end": _loadavg()}
    print(json.dumps(result["medians"], indent=1))
    print(f"samples: {json.dumps(result['samples'])}")
    print(f"load average (1/5/15 min) at start {start_load}, at end {result['loadavg']['end']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
