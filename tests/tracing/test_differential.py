"""Differential test of the trace surface: trace_scenario.py against the real `mlflow server` and
runstash (each on a fresh SQLite database), compared as tests/differential compares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.differential.test_differential import Observed, differences, replay
from tests.tracing.trace_scenario import TRACE_KNOWN_DIFFERENCES, TRACE_SCENARIO

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ReferenceServerLauncher, RunningServer, ServerLauncher


@pytest.fixture(scope="module")
def trace_reference(
    reference_server_launcher: ReferenceServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Observed]:
    db = database_factory.create("sqlite")
    server = reference_server_launcher.launch(
        db.sqlalchemy_uri, str(tmp_path_factory.mktemp("trace-ref-artifacts")), workers=1
    )
    try:
        return replay(server.url, TRACE_SCENARIO)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def trace_candidate(
    deployment: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    db = database_factory.create("sqlite")
    artifacts = tmp_path_factory.mktemp(f"trace-diff-{deployment}-artifacts")
    server = server_launcher.launch(deployment, db.uri, str(artifacts), label=f"trace-diff-{deployment}")
    yield server
    server_launcher.stop(server)


def test_trace_responses_match_mlflow(
    trace_reference: list[Observed], trace_candidate: RunningServer
) -> None:
    found = differences(
        trace_reference, replay(trace_candidate.url, TRACE_SCENARIO), TRACE_SCENARIO, TRACE_KNOWN_DIFFERENCES
    )
    assert not found, f"{len(found)} of {len(TRACE_SCENARIO)} steps differ from mlflow:\n" + "\n".join(found)


def test_trace_scenario_is_meaningful(trace_reference: list[Observed]) -> None:
    by_name = {o.step: o for o in trace_reference}
    for name in ("tr.otlp", "tr.start-v3", "tr.get.spans", "tr.assess.create", "tr.delete.ids"):
        assert by_name[name].status == 200, name
    assert by_name["tr.search.span-name"].body["traces"], "the span filter found the trace on mlflow"
