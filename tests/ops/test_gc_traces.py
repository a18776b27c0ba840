"""`runstash gc` and traces: the traces of an experiment gc removes go with it (spans, tags,
metadata, assessments and, on SQLite, the full-text index), while a live experiment's traces stay
however old they are (MLflow's gc takes no live trace by age)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from runstash_metadata.tracing import assessments, spans
from runstash_metadata.tracing import store as trace_store
from runstash_metadata.tracing.schema import TRACE_TABLES
from runstash_protos import traces_pb2 as pb
from sqlalchemy import func, select, text

from tests.metadata.store_driver import StoreDriver
from tests.support.databases import DatabaseFactory
from tests.support.servers import runstash_executable

_NS = 1_000_000


@pytest.fixture
def store(database_factory: DatabaseFactory, db_kind: str) -> Iterator[StoreDriver]:
    driver = StoreDriver.open(database_factory.create(db_kind).uri, "mlflow-artifacts:/")
    yield driver
    driver.close()


def _span(trace_id: bytes, span_id: bytes, parent: bytes, word: str) -> pb.Span:
    value = pb.AnyValue(string_value=f'{{"q": "{word}"}}')
    return pb.Span(
        trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=word,
        start_time_unix_nano=1000 * _NS, end_time_unix_nano=1040 * _NS,
        attributes=[pb.KeyValue(key="mlflow.spanInputs", value=value)],
    )  # fmt: skip


def traces(store: StoreDriver, experiment_id: int, word: str, n: int = 2) -> list[str]:
    """``n`` two-span traces from 1970 (older than any --older-than), each with a tag, a metadata
    entry and an assessment; ``word`` is in every span's attributes (and so in the FTS index)."""
    payloads, ids = [], []
    for _ in range(n):
        raw, root = os.urandom(16), os.urandom(8)
        request = pb.ExportTraceServiceRequest(
            resource_spans=[
                pb.ResourceSpans(
                    scope_spans=[
                        pb.ScopeSpans(
                            spans=[_span(raw, root, b"", word), _span(raw, os.urandom(8), root, word)]
                        )
                    ]
                )
            ]
        )
        payloads.append(request.SerializeToString())
        ids.append(spans.trace_id_of(raw))
    rows = [row for payload in payloads for row in spans.decode_request(payload)]
    with store.db.transaction() as conn:
        trace_store.write_spans(conn, store.q, experiment_id, rows, None)
        for tid in ids:
            trace_store.set_pairs(conn, store.q, tid, {"t": word}, {"m": word})
            feedback = pb.Feedback(value=struct_pb2.Value(bool_value=True))
            assessments.create(
                conn, pb.Assessment(trace_id=tid, assessment_name="ok", feedback=feedback), 1000
            )
    return ids


def counts(store: StoreDriver, trace_ids: list[str]) -> dict[str, int]:
    with store.db.reader() as conn:
        return {
            t.name: int(
                conn.execute(
                    select(func.count()).select_from(t).where(t.c.trace_id.in_(trace_ids))
                ).scalar_one()
            )
            for t in TRACE_TABLES
        }


def fts_hits(store: StoreDriver, word: str) -> int:
    with store.db.reader() as conn:
        stmt = text("SELECT count(*) FROM trace_spans_fts WHERE trace_spans_fts MATCH :w")
        return int(conn.execute(stmt, {"w": f'"{word}"'}).scalar_one())


def test_gc_deletes_the_traces_of_collected_experiments_only(store: StoreDriver, tmp_path: Path) -> None:
    live = int(store.create_experiment("live"))
    doomed = int(store.create_experiment("doomed"))
    kept = traces(store, live, "keptword")
    gone = traces(store, doomed, "goneword", n=3)
    before = counts(store, kept)
    assert min(before.values()) > 0, before
    assert min(counts(store, gone).values()) > 0
    store.delete_experiment(doomed)

    argv = [runstash_executable(), "gc", "--backend-store-uri", store.q.uri,
            "--artifacts-destination", str(tmp_path / "artifacts"), "--older-than", "1d"]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Permanently deleted 0 runs, 0 logged models and 0 experiments." in proc.stdout

    argv = argv[:-2]  # the experiment was deleted just now: no age limit
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Permanently deleted 0 runs, 0 logged models and 1 experiments." in proc.stdout

    assert counts(store, gone) == {t.name: 0 for t in TRACE_TABLES}
    assert counts(store, kept) == before
    if store.db.engine.dialect.name == "sqlite":
        assert fts_hits(store, "goneword") == 0
        assert fts_hits(store, "keptword") == 2 * len(kept)
        with store.db.transaction() as conn:  # raises if the index and trace_spans disagree
            conn.execute(text("INSERT INTO trace_spans_fts(trace_spans_fts) VALUES('integrity-check')"))
