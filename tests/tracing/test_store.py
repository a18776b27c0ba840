"""The trace store on each database, without a server: the OTLP bulk path, span and full-text
filters through their indexes' SQL, retention in batches, and the derived token usage."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from runstash_metadata.store import experiments
from runstash_metadata.store.database import Database
from runstash_metadata.tracing import reads, search, spans, store
from runstash_metadata.tracing.retention import expire_traces
from runstash_protos import traces_pb2 as pb

if TYPE_CHECKING:
    from tests.support.databases import Database as TestDatabase

_NS = 1_000_000


@pytest.fixture(scope="module")
def db(database: TestDatabase) -> Iterator[Database]:
    opened = Database.open(database.uri)
    yield opened
    opened.close()


def _experiment(db: Database) -> int:
    with db.transaction() as conn:
        return int(
            experiments.create_experiment(conn, db.q, f"store-{uuid.uuid4().hex[:8]}", artifact_root="/tmp/a")
        )


def _attr(key: str, value: str) -> pb.KeyValue:
    return pb.KeyValue(key=key, value=pb.AnyValue(string_value=value))


def _trace(start_ms: int, name: str, text: str, *, usage: bool = False) -> tuple[str, bytes]:
    trace_id, root_id = os.urandom(16), os.urandom(8)
    root = pb.Span(
        trace_id=trace_id, span_id=root_id, name=name, start_time_unix_nano=start_ms * _NS,
        end_time_unix_nano=(start_ms + 40) * _NS,
        attributes=[_attr("mlflow.spanType", '"AGENT"'), _attr("mlflow.spanInputs", json.dumps({"q": text}))],
    )  # fmt: skip
    children = [
        pb.Span(
            trace_id=trace_id, span_id=os.urandom(8), parent_span_id=root_id, name=f"{name}-step-{i}",
            start_time_unix_nano=(start_ms + i) * _NS, end_time_unix_nano=(start_ms + i + 1) * _NS,
            attributes=[_attr("mlflow.spanType", '"TOOL"'), _attr("tool.arg", f"arg-{i}")],
            status=pb.Status(code=pb.Status.STATUS_CODE_ERROR if i == 2 else pb.Status.STATUS_CODE_OK),
        )
        for i in range(3)
    ]  # fmt: skip
    if usage:
        root.attributes.append(_attr("mlflow.chat.tokenUsage", '{"input_tokens": 9, "total_tokens": 9}'))
        children[0].attributes.append(
            _attr("mlflow.chat.tokenUsage", '{"input_tokens": 4, "total_tokens": 4}')
        )
    request = pb.ExportTraceServiceRequest(
        resource_spans=[pb.ResourceSpans(scope_spans=[pb.ScopeSpans(spans=[root, *children])])]
    )
    return spans.trace_id_of(trace_id), request.SerializeToString()


def _ingest(db: Database, eid: int, payloads: list[bytes]) -> None:
    rows = [row for payload in payloads for row in spans.decode_request(payload)]
    with db.transaction() as conn:
        store.write_spans(conn, db.q, eid, rows, None)


def _ids(db: Database, eid: int, filter_string: str) -> list[str]:
    with db.reader() as conn:
        found, _ = search.search(
            conn, db.q, [eid], filter_string, order_by=[], max_results=100, page_token=None
        )
    return found


def test_span_and_full_text_filters(db: Database) -> None:
    eid = _experiment(db)
    apples = _trace(1_700_000_000_000, "apples", "Where do Granny Smith apples grow?")
    pears = _trace(1_700_000_100_000, "pears", "pear season")
    _ingest(db, eid, [apples[1], pears[1]])
    assert _ids(db, eid, "") == [pears[0], apples[0]]  # newest first
    assert _ids(db, eid, "span.name = 'apples-step-1'") == [apples[0]]
    assert _ids(db, eid, "span.type = 'TOOL'") == [pears[0], apples[0]]
    assert _ids(db, eid, "span.status = 'ERROR' AND trace.name = 'pears'") == [pears[0]]
    assert _ids(db, eid, "span.attributes.`tool.arg` = 'arg-2'") == [pears[0], apples[0]]
    assert _ids(db, eid, "span.attributes.`tool.arg` LIKE 'arg-%'") == [pears[0], apples[0]]
    assert _ids(db, eid, "trace.text ILIKE '%granny smith%'") == [apples[0]]
    assert _ids(db, eid, "trace.text LIKE '%granny smith%'") == []  # LIKE keeps case
    assert _ids(db, eid, "span.content LIKE '%season%'") == [pears[0]]
    assert _ids(db, eid, "trace.timestamp_ms < 1700000050000") == [apples[0]]
    assert _ids(db, eid, "trace.status = 'OK'") == [pears[0], apples[0]]


def test_token_usage_counts_a_roll_up_once(db: Database) -> None:
    eid = _experiment(db)
    trace_id, payload = _trace(1_700_000_000_000, "llm", "tokens", usage=True)
    _ingest(db, eid, [payload])
    with db.reader() as conn:
        loaded = reads.load_infos(conn, [trace_id])[trace_id]
    assert json.loads(loaded.metadata["mlflow.trace.tokenUsage"]) == {
        "input_tokens": 9,
        "output_tokens": 0,
        "total_tokens": 9,
    }
    assert loaded.row.span_count == 4
    assert loaded.row.state == "OK"
    assert loaded.row.execution_duration == 40


def test_retention_deletes_old_traces_in_batches(db: Database) -> None:
    eid = _experiment(db)
    old = [_trace(1_000_000_000_000 + i, f"old-{i}", "old") for i in range(5)]
    new = _trace(1_900_000_000_000, "new", "new")
    _ingest(db, eid, [payload for _, payload in old] + [new[1]])
    assert expire_traces(db, 1_500_000_000_000, batch=2) >= 5
    assert _ids(db, eid, "") == [new[0]]
    with db.reader() as conn:
        assert reads.load_spans(conn, [old[0][0]]) == {old[0][0]: []}
        assert len(reads.load_spans(conn, [new[0]])[new[0]]) == 4
