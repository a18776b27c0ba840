"""Differential test of the trace surface: trace_scenario.py against the real `mlflow server` and
runstash (each on a fresh SQLite database), compared as tests/differential compares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.differential.test_differential import Observed, _fill, _observe, _paths_that_differ, _short, _view
from tests.tracing.trace_scenario import TRACE_KNOWN_DIFFERENCES, TRACE_SCENARIO

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ReferenceServerLauncher, RunningServer, ServerLauncher


def replay(base_url: str) -> list[Observed]:
    variables: dict[str, str] = {}
    observed: list[Observed] = []
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        for step in TRACE_SCENARIO:
            headers = {k: _fill(v, variables) for k, v in step.headers}
            content = step.raw
            if step.json is not None:
                content = json.dumps(_fill(step.json, variables)).encode()
                headers.setdefault("Content-Type", "application/json")
            resp = client.request(
                step.method,
                _fill(step.path, variables),
                params=[(k, _fill(v, variables)) for k, v in step.query] or None,
                content=content,
                headers=headers,
            )
            observed.append(_observe(step, resp, variables))
    return observed


def differences(reference: list[Observed], candidate: list[Observed]) -> list[str]:
    found = []
    for step, ref, cand in zip(TRACE_SCENARIO, reference, candidate, strict=True):
        if _view(ref, step.compare) == _view(cand, step.compare):
            continue
        known = TRACE_KNOWN_DIFFERENCES.get(step.name)
        cand_code = cand.body.get("error_code") if isinstance(cand.body, dict) else None
        if known is not None and (cand.status, cand_code) == (known.status, known.error_code):
            continue
        detail = "\n".join(
            f"    at {where}: mlflow={_short(r)} runstash={_short(c)}"
            for where, r, c in _paths_that_differ(_view(ref, step.compare), _view(cand, step.compare))
        )
        found.append(f"{step.name}: {step.method} {step.path}\n{detail}")
    return found


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
        return replay(server.url)
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
    found = differences(trace_reference, replay(trace_candidate.url))
    assert not found, f"{len(found)} of {len(TRACE_SCENARIO)} steps differ from mlflow:\n" + "\n".join(found)


def test_trace_scenario_is_meaningful(trace_reference: list[Observed]) -> None:
    by_name = {o.step: o for o in trace_reference}
    for name in ("tr.otlp", "tr.start-v3", "tr.get.spans", "tr.assess.create", "tr.delete.ids"):
        assert by_name[name].status == 200, name
    assert by_name["tr.search.span-name"].body["traces"], "the span filter found the trace on mlflow"
