"""Trace line of the bench: OTLP/HTTP protobuf ingest and trace search, runstash beside mlflow.

For each peer: a fresh PostgreSQL database and the server started on it (or a given URL), an
experiment, then ``clients`` threads each posting ``batches`` OTLP protobuf requests of
``spans_per_batch`` spans (10-span traces) to ``/v1/traces``; spans/s over the whole ingest. Then:
how long until the last trace is searchable, and p50/p95 of trace searches over the ingested set
(no filter, span name, span type, span status, full text), each checked against the count the
generator knows. Payloads are built before the clock starts.

    .venv/bin/python bench/trace_bench.py                      # both peers, defaults
    .venv/bin/python bench/trace_bench.py --peers runstash --batches 100
    .venv/bin/python bench/trace_bench.py --url runstash=http://127.0.0.1:5000

``run(...)`` returns the same figures as a dict (for run_bench.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from runstash_protos import traces_pb2 as pb  # noqa: E402

from bench.bench_env import free_port, fresh_pg_database, pg_uri  # noqa: E402

SPANS_PER_TRACE = 10
RARE_SPAN = "rerank"  # one trace in RARE_EVERY has a span of this name
RARE_WORD = "zebrafish"  # and this word in its root's inputs
RARE_EVERY = 50
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "retrieval",
    "answer",
    "question",
    "context",
    "model",
    "prompt",
    "token",
    "agent",
    "tool",
]
SEARCH_QUERIES = 30
SEARCH_BUDGET_S = 60.0  # per filter: fewer queries (at least one) when a peer is slow
QUERY_TIMEOUT_S = 60.0
START_TIMEOUT_S = 300.0
LAST_DATABASE: list[str] = [""]  # the database _server made last (the scale line writes into it)


# ------------------------------------------------------------------ payloads


def _attr(key: str, value: str) -> pb.KeyValue:
    return pb.KeyValue(key=key, value=pb.AnyValue(string_value=value))


def _trace_spans(rng: random.Random, start_ns: int, rare: bool, label: str) -> list[pb.Span]:
    trace_id, root_id = rng.randbytes(16), rng.randbytes(8)
    text = " ".join(rng.choice(WORDS) for _ in range(30)) + (f" {RARE_WORD}" if rare else "")
    root = pb.Span(
        trace_id=trace_id,
        span_id=root_id,
        name=label,
        kind=pb.Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + 90_000_000,
        attributes=[
            _attr("mlflow.spanType", '"AGENT"'),
            _attr("mlflow.spanInputs", json.dumps({"q": text})),
            _attr("mlflow.spanOutputs", json.dumps("ok")),
        ],
        status=pb.Status(code=pb.Status.STATUS_CODE_OK),
    )
    out = [root]
    for i in range(SPANS_PER_TRACE - 1):
        name = (
            RARE_SPAN
            if rare and i == 0
            else ("retrieve" if i % 3 == 0 else "llm-call" if i % 3 == 1 else "tool")
        )
        kind = {"retrieve": '"RETRIEVER"', "llm-call": '"LLM"'}.get(name, '"TOOL"')
        failed = i == 4 and rng.random() < 0.1
        out.append(
            pb.Span(
                trace_id=trace_id,
                span_id=rng.randbytes(8),
                parent_span_id=root_id,
                name=name,
                start_time_unix_nano=start_ns + (i + 1) * 5_000_000,
                end_time_unix_nano=start_ns + (i + 2) * 5_000_000,
                attributes=[
                    _attr("mlflow.spanType", kind),
                    _attr("mlflow.spanInputs", json.dumps({"step": i, "text": text[:120]})),
                ],
                status=pb.Status(code=pb.Status.STATUS_CODE_ERROR if failed else pb.Status.STATUS_CODE_OK),
            )
        )
    return out


def build_payloads(
    clients: int, batches: int, spans_per_batch: int, seed: int = 7
) -> tuple[list[list[bytes]], int]:
    """Per client, its requests (serialized ExportTraceServiceRequest); and the rare trace count."""
    rng = random.Random(seed)
    traces_per_batch = max(1, spans_per_batch // SPANS_PER_TRACE)
    base_ns = time.time_ns() - 3_600_000_000_000
    rare = 0
    per_client: list[list[bytes]] = []
    n = 0
    for c in range(clients):
        requests = []
        for b in range(batches):
            spans: list[pb.Span] = []
            for t in range(traces_per_batch):
                is_rare = n % RARE_EVERY == 0
                rare += is_rare
                spans += _trace_spans(rng, base_ns + n * 1_000_000, is_rare, f"req-{c}-{b}-{t}")
                n += 1
            request = pb.ExportTraceServiceRequest(
                resource_spans=[pb.ResourceSpans(scope_spans=[pb.ScopeSpans(spans=spans)])]
            )
            requests.append(request.SerializeToString())
        per_client.append(requests)
    return per_client, rare


# ------------------------------------------------------------------ servers


@contextlib.contextmanager
def _server(peer: str, workdir: Path, database: str | None = None) -> Iterator[str]:
    """runstash or mlflow on a fresh PostgreSQL database; yields its URL, stops its process group."""
    given = contextlib.nullcontext(database) if database else None
    with given or fresh_pg_database(f"trace_{peer}") as db:
        LAST_DATABASE[0] = db
        port = free_port()
        artifacts = workdir / f"{peer}-{db}-artifacts"
        if peer == "runstash":
            argv = [
                str(ROOT / ".venv/bin/runstash"),
                "server",
                "--backend-store-uri",
                pg_uri(db, explicit_driver=False),
                "--artifacts-destination",
                str(artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        else:
            argv = [
                str(ROOT / ".venv-mlflow/bin/mlflow"),
                "server",
                "--backend-store-uri",
                pg_uri(db, explicit_driver=True),
                "--artifacts-destination",
                str(artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "4",
            ]
        env = {**os.environ, "MLFLOW_MODEL_CATALOG_URI": "", "MLFLOW_DISABLE_TELEMETRY": "true"}
        log = open(workdir / f"{peer}-server.log", "ab")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            log.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)  # polling a health endpoint with a bound, not waiting blind
    raise RuntimeError(f"{url}: not healthy after {START_TIMEOUT_S} s")


# ------------------------------------------------------------------ measurements


def _experiment(url: str, name: str) -> str:
    response = httpx.post(f"{url}/api/2.0/mlflow/experiments/create", json={"name": name}, timeout=60)
    response.raise_for_status()
    return str(response.json()["experiment_id"])


def ingest(url: str, eid: str, per_client: list[list[bytes]]) -> dict[str, Any]:
    headers = {"content-type": "application/x-protobuf", "x-mlflow-experiment-id": eid}
    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def client(requests: list[bytes]) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for body in requests:
                t0 = time.perf_counter()
                response = http.post("/v1/traces", content=body, headers=headers)
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(requests,)) for requests in per_client]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    spans = _span_count(per_client)
    latencies.sort()
    return {
        "spans": spans,
        "seconds": round(seconds, 3),
        "spans_per_s": round(spans / seconds, 1),
        "request_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def _traces_per_request(per_client: list[list[bytes]]) -> int:
    request = pb.ExportTraceServiceRequest.FromString(per_client[0][0])
    return len({span.trace_id for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans})


def _span_count(per_client: list[list[bytes]]) -> int:
    return sum(
        sum(
            len(ss.spans)
            for rs in pb.ExportTraceServiceRequest.FromString(body).resource_spans
            for ss in rs.scope_spans
        )
        for requests in per_client
        for body in requests
    )


def _search(
    http: httpx.Client, eid: str, filter_string: str, max_results: int = 100
) -> tuple[float, list[str]]:
    body: dict[str, Any] = {
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": eid}}],
        "max_results": max_results,
    }
    if filter_string:
        body["filter"] = filter_string
    t0 = time.perf_counter()
    response = http.post("/api/3.0/mlflow/traces/search", json=body)
    elapsed = time.perf_counter() - t0
    response.raise_for_status()
    return elapsed, [t["trace_id"] for t in response.json().get("traces", [])]


def searchable_after(url: str, eid: str, last_label: str, timeout_s: float = 30.0) -> float | None:
    """Seconds from now until the trace named ``last_label`` is found by a search."""
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.perf_counter() - started < timeout_s:
            _, found = _search(http, eid, f"trace.name = '{last_label}'", 1)
            if found:
                return round(time.perf_counter() - started, 3)
            time.sleep(0.02)  # polling the search itself, bounded by timeout_s
    return None


def _timed_queries(http: httpx.Client, eid: str, filter_string: str, expected: int | None) -> dict[str, Any]:
    """Up to SEARCH_QUERIES runs within SEARCH_BUDGET_S; a query over QUERY_TIMEOUT_S ends them."""
    times: list[float] = []
    found: list[str] = []
    started = time.perf_counter()
    while len(times) < SEARCH_QUERIES and (not times or time.perf_counter() - started < SEARCH_BUDGET_S):
        try:
            elapsed, found = _search(http, eid, filter_string)
        except httpx.TimeoutException:
            return {"error": f"no answer within {QUERY_TIMEOUT_S} s", "completed": len(times)}
        except httpx.HTTPError as exc:
            return {"error": repr(exc)[:200], "completed": len(times)}
        times.append(elapsed * 1000)
    times.sort()
    return {
        "queries": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "rows": len(found),
        "correct": expected is None or len(found) == expected,
    }


def search_latencies(url: str, eid: str, rare: int, traces: int) -> dict[str, Any]:
    queries = {
        "list": ("", min(traces, 100)),
        "span_name": (f"span.name = '{RARE_SPAN}'", min(rare, 100)),
        "span_type": ("span.type = 'RETRIEVER'", min(traces, 100)),
        "span_status": ("span.status = 'ERROR'", None),
        "full_text": (f"trace.text ILIKE '%{RARE_WORD}%'", min(rare, 100)),
    }
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=QUERY_TIMEOUT_S) as http:
        for name, (filter_string, expected) in queries.items():
            out[name] = _timed_queries(http, eid, filter_string, expected)
    return out


def measure(url: str, peer: str, per_client: list[list[bytes]], rare: int) -> dict[str, Any]:
    eid = _experiment(url, f"trace-bench-{peer}-{int(time.time())}")
    record: dict[str, Any] = {"peer": peer, "ingest": ingest(url, eid, per_client)}
    last = f"req-{len(per_client) - 1}-{len(per_client[-1]) - 1}-0"
    record["searchable_after_s"] = searchable_after(url, eid, last)
    traces = sum(len(r) for r in per_client) * _traces_per_request(per_client)
    record["search"] = search_latencies(url, eid, rare, traces)
    return record


def run(
    *,
    peers: tuple[str, ...] = ("runstash", "mlflow"),
    urls: dict[str, str] | None = None,
    clients: int = 8,
    batches: int = 25,
    spans_per_batch: int = 100,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Ingest and search figures per peer, plus runstash/mlflow ratios when both ran."""
    per_client, rare = build_payloads(clients, batches, spans_per_batch)
    workdir = workdir or Path(os.environ.get("TMPDIR", "/tmp")) / f"trace-bench-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    records: dict[str, Any] = {}
    for peer in peers:
        given = (urls or {}).get(peer)
        if given:
            records[peer] = measure(given, peer, per_client, rare)
            continue
        with _server(peer, workdir) as url:
            records[peer] = measure(url, peer, per_client, rare)
    result: dict[str, Any] = {
        "clients": clients,
        "spans_per_batch": spans_per_batch,
        "batches_per_client": batches,
        "load_average": os.getloadavg(),
        "peers": records,
    }
    if "runstash" in records and "mlflow" in records:
        ours, theirs = records["runstash"]["ingest"], records["mlflow"]["ingest"]
        result["ingest_ratio"] = (
            round(ours["spans_per_s"] / theirs["spans_per_s"], 2) if theirs["spans_per_s"] else None
        )
    return result


def lines(result: dict[str, Any]) -> str:
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    out = [
        f"trace bench: {result['clients']} clients x {result['batches_per_client']} batches of "
        f"{result['spans_per_batch']} spans, load average {load}"
    ]
    for peer, r in result["peers"].items():
        i = r["ingest"]
        out.append(
            f"  {peer:9s} ingest {i['spans_per_s']:>9.1f} spans/s ({i['spans']} spans in {i['seconds']} s, "
            f"p99 {i['request_p99_ms']} ms, errors {i['errors']}); "
            f"searchable after {r['searchable_after_s']} s"
        )
        for name, s in r["search"].items():
            if "error" in s:
                out.append(f"  {peer:9s} search {name:12s} error {s['error']}")
            else:
                out.append(
                    f"  {peer:9s} search {name:12s} p50 {s['p50_ms']:>8.1f} ms  p95 {s['p95_ms']:>8.1f} ms  "
                    f"rows {s['rows']}{'' if s['correct'] else '  WRONG'}"
                )
    if result.get("ingest_ratio"):
        out.append(f"  ingest runstash/mlflow: {result['ingest_ratio']}x")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--peers", default="runstash,mlflow")
    parser.add_argument("--url", action="append", default=[], help="peer=URL of an already running server")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=25, help="requests per client")
    parser.add_argument("--spans-per-batch", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--search-scale", type=int, default=0, help="instead: N traces through the bulk path, searched"
    )
    parser.add_argument("--scale-spans", type=int, default=3, help="spans per generated trace")
    parser.add_argument(
        "--scale-database",
        help="an existing PostgreSQL database to fill (once) and keep, instead of a fresh one",
    )
    args = parser.parse_args(argv)
    if args.search_scale:
        from bench import trace_scale

        scale = trace_scale.run_scale(
            args.search_scale,
            args.scale_spans,
            (args.clients, args.batches),
            lambda m: print(m, flush=True),
            database=args.scale_database,
        )
        print("\n".join(trace_scale.scale_lines(scale)))
        if args.json:
            args.json.write_text(json.dumps(scale, indent=2))
        return
    urls = dict(item.split("=", 1) for item in args.url)
    result = run(
        peers=tuple(p for p in args.peers.split(",") if p),
        urls=urls,
        clients=args.clients,
        batches=args.batches,
        spans_per_batch=args.spans_per_batch,
    )
    print(lines(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
