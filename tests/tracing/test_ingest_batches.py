"""The OTLP bulk path on each database when a batch mixes traces it creates with traces already
stored: the new ones take plain inserts, the stored ones the replacing upserts, and a batch that
fails (a trace of another experiment) leaves nothing behind, not even the traces it created."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from runstash_metadata.store import experiments
from runstash_metadata.store.database import Database
from runstash_metadata.tracing import reads, search, spans, store
from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import RunstashError

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
            experiments.create_experiment(conn, db.q, f"batch-{uuid.uuid4().hex[:8]}", artifact_root="/tmp/a")
        )


def _attr(key: str, value: str) -> pb.KeyValue:
    return pb.KeyValue(key=key, value=pb.AnyValue(string_value=value))


def _spans(name: str, word: str) -> list[pb.Span]:
    trace_id, root_id = os.urandom(16), os.urandom(8)
    root = pb.Span(
        trace_id=trace_id, span_id=root_id, name=name, start_time_unix_nano=1_700_000_000_000 * _NS,
        end_time_unix_nano=1_700_000_000_050 * _NS,
        attributes=[
            _attr("mlflow.spanInputs", f'{{"q": "{word}"}}'), _attr("mlflow.traceTag.team", '"blue"')
        ],
    )  # fmt: skip
    children = [
        pb.Span(
            trace_id=trace_id, span_id=os.urandom(8), parent_span_id=root_id, name=f"{name}-{i}",
            start_time_unix_nano=(1_700_000_000_000 + i) * _NS,
            end_time_unix_nano=(1_700_000_000_001 + i) * _NS,
            attributes=[_attr("mlflow.spanType", '"TOOL"')],
        )
        for i in range(3)
    ]  # fmt: skip
    return [root, *children]


def _rows(*traces: list[pb.Span]) -> list[spans.SpanRow]:
    request = pb.ExportTraceServiceRequest(
        resource_spans=[pb.ResourceSpans(scope_spans=[pb.ScopeSpans(spans=[s for t in traces for s in t])])]
    )
    return spans.decode_request(request.SerializeToString())


def _write(db: Database, eid: int, rows: list[spans.SpanRow]) -> None:
    with db.transaction() as conn:
        store.write_spans(conn, db.q, eid, rows, None, artifact_root="/tmp/a")


def _text_search(db: Database, eid: int, word: str) -> list[str]:
    with db.reader() as conn:
        found, _ = search.search(
            conn, db.q, [eid], f"trace.text ILIKE '%{word}%'", order_by=[], max_results=10, page_token=None
        )
    return found


def test_a_batch_mixing_stored_and_new_traces(db: Database) -> None:
    eid = _experiment(db)
    stored = _spans("stored", "quokka")
    _write(db, eid, _rows(stored))
    resent = pb.Span()
    resent.CopyFrom(stored[1])
    resent.name = "renamed"
    fresh = _spans("fresh", "wombat")
    rows = _rows([resent], fresh)
    _write(db, eid, rows)
    stored_id, fresh_id = rows[0].trace_id, rows[1].trace_id
    with db.reader() as conn:
        infos = reads.load_infos(conn, [stored_id, fresh_id])
        bodies = reads.load_spans(conn, [stored_id, fresh_id])
    # The re-sent span replaced the stored one (stored once, counted once).
    assert infos[stored_id].row.span_count == 4
    assert sorted(pb.Span.FromString(b).name for b in bodies[stored_id]) == [
        "renamed", "stored", "stored-1", "stored-2"
    ]  # fmt: skip
    assert infos[fresh_id].row.span_count == 4 and len(bodies[fresh_id]) == 4
    assert infos[fresh_id].row.state == "OK"
    for info, name in ((infos[stored_id], "stored"), (infos[fresh_id], "fresh")):
        assert info.tags["mlflow.traceName"] == name
        assert info.tags["team"] == "blue"
        assert info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
        assert info.tags["mlflow.artifactLocation"].endswith(f"/traces/{info.row.trace_id}/artifacts")
    assert _text_search(db, eid, "wombat") == [fresh_id]
    assert _text_search(db, eid, "quokka") == [stored_id]


def test_a_failed_batch_keeps_none_of_its_new_traces(db: Database) -> None:
    first, second = _experiment(db), _experiment(db)
    elsewhere = _spans("elsewhere", "narwhal")
    _write(db, first, _rows(elsewhere))
    rows = _rows(_spans("would-be-new", "axolotl"), elsewhere)
    with pytest.raises(RunstashError, match="belongs to another experiment"):
        _write(db, second, rows)
    new_id = rows[0].trace_id
    with db.reader() as conn:
        assert reads.load_infos(conn, [new_id]) == {}
        assert reads.load_spans(conn, [new_id]) == {new_id: []}
    assert _text_search(db, second, "axolotl") == []
    # The batch without the foreign trace goes through, and its trace is new then.
    _write(db, second, [r for r in rows if r.trace_id == new_id])
    assert _text_search(db, second, "axolotl") == [new_id]


@pytest.mark.parametrize(
    "value",
    [
        {"q": "text", "n": 3, "ok": True, "nested": {"list": [1, 2.5, None, "x"]}},
        [],
        {},
        None,
        2**63,
        -(2**63),
        [{"a": []}, {}],
        "plain",
    ],
)
def test_in_place_attribute_values_match_built_ones(value: object) -> None:
    built = pb.AnyValue(string_value="as sent")
    built.CopyFrom(spans.to_any_value(value))
    filled = pb.AnyValue(string_value="as sent")
    spans.fill_any_value(filled, value)
    assert filled == built
    assert filled.SerializeToString(deterministic=True) == built.SerializeToString(deterministic=True)
