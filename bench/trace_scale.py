"""Trace search at scale: N traces generated through the store's bulk path, then search latencies
(list, span name/type/status, full text) over HTTP, and OTLP ingest with and without searches
running beside it.

The generator builds span rows directly (SpanRow, what ``decode_request`` makes of an OTLP batch)
and writes them with ``tracing.store.write_spans`` in transactions of ``BATCH_TRACES`` traces, from
``WRITERS`` processes: the same statements, triggers and indexes as OTLP ingest, without paying
for protobuf encoding and HTTP a million times. Traces are ``spans`` spans long (root AGENT span,
then RETRIEVER / LLM / TOOL children); one in RARE_EVERY has a ``rerank`` span and the word
``zebrafish`` in its root's inputs; one in ERROR_EVERY has an ERROR span.

    .venv/bin/python bench/trace_bench.py --peers runstash --search-scale 1000000
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

WRITERS = int(os.environ.get("TRACE_SCALE_WRITERS", "2"))
BATCH_TRACES = 500
RARE_EVERY = 50
ERROR_EVERY = 10
SEARCHES = 20
WORDS = ("alpha", "beta", "gamma", "delta", "retrieval", "answer", "question", "context", "model",
         "prompt", "token", "agent", "tool", "search", "vector", "cache")  # fmt: skip
CHILDREN = (("retrieve", "RETRIEVER"), ("llm-call", "LLM"), ("tool", "TOOL"))


def _content(trace_id: str, span_id: str, parent: str | None, name: str, start: int, inputs: str) -> bytes:  # noqa: PLR0917
    """The stored span body: a real OTLP Span (what GetTrace serves back)."""
    from runstash_protos import traces_pb2 as pb

    span = pb.Span(
        trace_id=bytes.fromhex(trace_id[3:]),
        span_id=bytes.fromhex(span_id),
        name=name,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 5_000_000,
        attributes=[pb.KeyValue(key="mlflow.spanInputs", value=pb.AnyValue(string_value=inputs))],
    )
    if parent:
        span.parent_span_id = bytes.fromhex(parent)
    return span.SerializeToString()


def _trace_rows(rng: random.Random, n: int, spans: int, base_ns: int) -> list[Any]:
    from runstash_metadata.tracing.spans import SpanRow

    trace_id = f"tr-{rng.getrandbits(128):032x}"
    root_id = f"{rng.getrandbits(64):016x}"
    rare = n % RARE_EVERY == 0
    text = " ".join(rng.choice(WORDS) for _ in range(24)) + (" zebrafish" if rare else "")
    start = base_ns + n * 1_000_000
    inputs = '{"q": "' + text + '"}'
    root = SpanRow(trace_id, root_id, None, f"req-{n % 1000}", "AGENT", "OK", start, start + 90_000_000,
                   {"mlflow.spanType": "AGENT", "mlflow.spanInputs": inputs, "mlflow.spanOutputs": "ok"},
                   _content(trace_id, root_id, None, f"req-{n % 1000}", start, inputs),
                   raw_inputs=inputs, raw_outputs='"ok"')  # fmt: skip
    rows = [root]
    for i in range(spans - 1):
        span_id = f"{rng.getrandbits(64):016x}"
        name, kind = ("rerank", "RERANKER") if rare and i == 0 else CHILDREN[i % len(CHILDREN)]
        failed = n % ERROR_EVERY == 0 and i == spans - 2
        child_inputs = '{"step": ' + str(i) + ', "text": "' + text[:80] + '"}'
        rows.append(
            SpanRow(
                trace_id,
                span_id,
                root_id,
                name,
                kind,
                "ERROR" if failed else "OK",
                start + (i + 1) * 5_000_000,
                start + (i + 2) * 5_000_000,
                {"mlflow.spanType": kind, "mlflow.spanInputs": child_inputs},
                _content(trace_id, span_id, root_id, name, start, child_inputs),
            )
        )
    return rows


def _writer(uri: str, experiment_id: int, first: int, count: int, spans: int, seed: int) -> None:  # noqa: PLR0917
    from runstash_metadata.store.database import Database
    from runstash_metadata.tracing import store

    rng = random.Random(seed)
    base_ns = time.time_ns() - 30 * 86_400 * 1_000_000_000
    db = Database(uri)
    try:
        for start in range(first, first + count, BATCH_TRACES):
            rows = []
            for n in range(start, min(start + BATCH_TRACES, first + count)):
                rows += _trace_rows(rng, n, spans, base_ns)
            with db.transaction() as conn:
                store.write_spans(conn, db.q, experiment_id, rows, None, artifact_root="/tmp/scale")
    finally:
        db.close()


_BULK_TABLES = ("trace_info", "trace_spans", "trace_span_text", "trace_tags", "trace_request_metadata")


def _secondary_indexes(cur: Any) -> list[tuple[str, str]]:
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = ANY(%s) AND NOT x.indisprimary",
        (list(_BULK_TABLES),),
    )
    return list(cur.fetchall())


def generate(uri: str, experiment_id: int, traces: int, spans: int, log: Callable[[str], None]) -> float:
    """Writes ``traces`` traces; returns the seconds it took. As in any bulk load, the secondary
    indexes are dropped first and built once at the end (index builds included in the time)."""
    import psycopg2

    started = time.perf_counter()
    conn = psycopg2.connect(uri)
    conn.autocommit = True
    with conn.cursor() as cur:
        indexes = _secondary_indexes(cur)
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    _write_all(uri, experiment_id, traces, spans)
    log(
        f"generated {traces} traces in {time.perf_counter() - started:.0f} s; building {len(indexes)} indexes"
    )
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET statement_timeout = 0")
        for _, definition in indexes:
            cur.execute(definition)
        cur.execute("VACUUM ANALYZE " + ", ".join(_BULK_TABLES))
    conn.close()
    return time.perf_counter() - started


def _write_all(uri: str, experiment_id: int, traces: int, spans: int) -> None:
    share = -(-traces // WRITERS)
    ctx = multiprocessing.get_context("spawn")
    procs = []
    for w in range(WRITERS):
        first, count = w * share, max(0, min(share, traces - w * share))
        args = (uri, experiment_id, first, count, spans, 1000 + w)
        procs.append(ctx.Process(target=_writer, args=args))
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise RuntimeError(f"generator process exited with {proc.exitcode}")


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1)


def _search_body(eid: str, filter_string: str) -> dict[str, Any]:
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": eid}}
    body: dict[str, Any] = {"locations": [location], "max_results": 100}
    if filter_string:
        body["filter"] = filter_string
    return body


def timed_search(url: str, eid: str, filter_string: str, expected: int | None) -> dict[str, Any]:
    body = _search_body(eid, filter_string)
    times: list[float] = []
    rows = 0
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(SEARCHES):
            t0 = time.perf_counter()
            response = http.post("/api/3.0/mlflow/traces/search", json=body)
            times.append(time.perf_counter() - t0)
            if response.status_code != 200:
                return {"error": f"{response.status_code} {response.text[:200]}", "completed": len(times) - 1}
            rows = len(response.json().get("traces", []))
    return {
        "queries": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": _p95(times),
        "rows": rows,
        "correct": expected is None or rows == expected,
    }


SCALE_QUERIES = {
    "list": ("", 100),
    "span_name": ("span.name = 'rerank'", 100),
    "span_type": ("span.type = 'RETRIEVER'", 100),
    "span_status": ("span.status = 'ERROR'", 100),
    "full_text": ("trace.text ILIKE '%zebrafish%'", 100),
}


def searches(url: str, eid: str) -> dict[str, Any]:
    return {name: timed_search(url, eid, f, expected) for name, (f, expected) in SCALE_QUERIES.items()}


def with_searches_running(url: str, eid: str, ingest: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``ingest()`` while one client loops over the scale searches; its figures and the searches'."""
    stop = threading.Event()
    done: list[float] = []

    def searcher() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                for f, _ in SCALE_QUERIES.values():
                    body = _search_body(eid, f)
                    t0 = time.perf_counter()
                    http.post("/api/3.0/mlflow/traces/search", json=body)
                    done.append(time.perf_counter() - t0)

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        result = ingest()
    finally:
        stop.set()
        thread.join()
    result["searches_meanwhile"] = len(done)
    return result


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def run_scale(
    traces: int,
    spans: int,
    load_shape: tuple[int, int],
    log: Callable[[str], None],
    *,
    database: str | None = None,
) -> dict[str, Any]:
    """The scale line: generate, search, ingest alone and ingest beside searches (runstash only).
    ``load_shape``: OTLP clients and requests per client. ``database``: fill it once and keep it."""
    from pathlib import Path

    from bench import trace_bench as tb
    from bench.bench_env import pg_uri

    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"trace-scale-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    clients, batches = load_shape
    alone_load, _ = tb.build_payloads(clients, batches, 100, seed=11)
    beside_load, _ = tb.build_payloads(clients, batches, 100, seed=12)
    out: dict[str, Any] = {"traces": traces, "spans_per_trace": spans, "clients": clients, "generate_s": 0}
    with tb._server("runstash", workdir, database) as url:
        uri = pg_uri(tb.LAST_DATABASE[0], explicit_driver=False)
        eid = _scale_experiment(url)
        if eid is None:
            eid = tb._experiment(url, "trace-scale")
            out["generate_s"] = round(generate(uri, int(eid), traces, spans, log), 1)
        out["load_after_generate"] = load()
        log(f"searches over {traces} traces (load {load()})")
        out["search"] = searches(url, eid)
        out["load_after_search"] = load()
        log("ingest alone, then beside searches")
        tag = str(int(time.time()))
        out["ingest_alone"] = tb.ingest(url, tb._experiment(url, f"alone-{tag}"), alone_load)
        out["ingest_alone"]["load"] = load()
        beside = tb._experiment(url, f"beside-{tag}")
        result = with_searches_running(url, eid, lambda: tb.ingest(url, beside, beside_load))
        out["ingest_beside_searches"] = {**result, "load": load()}
    return out


def _scale_experiment(url: str) -> str | None:
    """The id of the experiment a previous run filled, if the database is a kept one."""
    response = httpx.get(
        f"{url}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "trace-scale"}
    )
    return str(response.json()["experiment"]["experiment_id"]) if response.status_code == 200 else None


def scale_lines(r: dict[str, Any]) -> list[str]:
    out = [
        f"trace search at scale: {r['traces']:,} traces x {r['spans_per_trace']} spans generated through the "
        f"store's bulk path in {r['generate_s']} s (load {r['load_after_generate']})"
    ]
    for name, s in r["search"].items():
        if "error" in s:
            out.append(f"  search {name:12s} error {s['error']}")
        else:
            out.append(
                f"  search {name:12s} p50 {s['p50_ms']:>8.1f} ms  p95 {s['p95_ms']:>8.1f} ms  "
                f"rows {s['rows']}{'' if s['correct'] else '  WRONG'}"
            )
    for key, label in (("ingest_alone", "alone"), ("ingest_beside_searches", "beside searches")):
        i = r[key]
        extra = f", {i['searches_meanwhile']} searches meanwhile" if "searches_meanwhile" in i else ""
        out.append(
            f"  ingest {label:16s} {i['spans_per_s']:>9.1f} spans/s (p99 {i['request_p99_ms']} ms, "
            f"errors {i['errors']}{extra}; load {i['load']})"
        )
    return out
