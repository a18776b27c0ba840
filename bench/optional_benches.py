"""Bench lines whose modules land with their own features (traces): run and printed by
``run_bench.py`` when the module is in this checkout, skipped otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _bench_module(name: str) -> Any | None:
    """A bench module that may not be in this checkout yet (each lands with its own feature)."""
    module = f"bench.{name}"
    return importlib.import_module(module) if importlib.util.find_spec(module) is not None else None


def optional_benches(
    results: dict[str, Any], workdir: Path, args: argparse.Namespace, *, log: Callable[[str], None]
) -> None:
    """Runs the benches of this checkout that are not always there (flags: --no-traces,
    --trace-scale N)."""
    traces = None if args.no_traces else _bench_module("trace_bench")
    if traces is not None:
        log("traces: OTLP ingest and trace search")
        (workdir / "traces").mkdir(exist_ok=True)
        results["traces"] = traces.run(peers=tuple(args.peer_list), workdir=workdir / "traces")
    scale = _bench_module("trace_scale") if getattr(args, "trace_scale", 0) else None
    if scale is not None:
        log(f"traces: search over {args.trace_scale:,} generated traces")
        results["trace_scale"] = scale.run_scale(args.trace_scale, 3, (8, 25), log)


def optional_lines(results: dict[str, Any]) -> list[str]:
    out = []
    if results.get("traces"):
        traces = _bench_module("trace_bench")
        if traces is not None:
            out.append("\n" + traces.lines(results["traces"]))
    if results.get("trace_scale"):
        scale = _bench_module("trace_scale")
        if scale is not None:
            out.append("\n" + "\n".join(scale.scale_lines(results["trace_scale"])))
    return out
