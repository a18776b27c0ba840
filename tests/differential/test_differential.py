"""Differential test: the same raw HTTP scenario against the real `mlflow server` (SQLite, one
worker) and against runstash (single and split deployments, SQLite), responses normalised
(ids, timestamps, generated names, unspecified ordering) and compared: status, JSON-ness,
error_code and body. Accepted divergences are listed in scenario.KNOWN_DIFFERENCES with reasons."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.differential.scenario import (
    DB_TEXT_MESSAGES,
    KNOWN_DIFFERENCES,
    SCENARIO,
    T0,
    KnownDifference,
    Step,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ReferenceServerLauncher, RunningServer, ServerLauncher

TIME_KEYS = {
    "start_time",
    "end_time",
    "creation_time",
    "last_update_time",
    "creation_timestamp",
    "last_updated_timestamp",
    "creation_timestamp_ms",
    "last_updated_timestamp_ms",
    "deleted_time",
}
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
PY_SET = re.compile(r"\{('[^{}']*'(?:, '[^{}']*')*)\}")


@dataclasses.dataclass
class Observed:
    step: str
    status: int
    is_json: bool
    body: Any  # normalised JSON, or {"sha256": ...} for a 200 non-JSON body, else None
    raw_text: str


def _fill(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: variables.get(m.group(1), f"<unset {m.group(1)}>"), value)
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict) or part not in body:
            return None
        body = body[part]
    return body


def _normalise(value: Any, substitutions: list[tuple[str, str]], key: str | None = None) -> Any:
    if key in TIME_KEYS and isinstance(value, int | str) and str(value).isdigit():
        # times the scenario sent are kept; server-generated ones are only checked for presence
        return value if T0 <= int(value) < T0 + 10_000_000 else "<ts>"
    if isinstance(value, str):
        for actual, name in substitutions:
            value = value.replace(actual, name)
        # MLflow prints Python sets in messages ("not one of '{'>=', '<'}"): order is hash-seeded
        return PY_SET.sub(lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", value)
    if isinstance(value, list):
        items = [_normalise(v, substitutions) for v in value]
        if items and all(isinstance(i, dict) and "key" in i for i in items):
            items.sort(key=lambda i: str(i["key"]))  # stable: history order within one key stays
        elif items and all(isinstance(i, dict) and "path" in i for i in items):
            items.sort(key=lambda i: str(i["path"]))
        return items
    if isinstance(value, dict):
        return {k: _normalise(v, substitutions, k) for k, v in value.items()}
    return value


def replay(base_url: str, scenario: Sequence[Step] = SCENARIO) -> list[Observed]:
    """Send the scenario's steps in order, filling each step's placeholders from earlier captures."""
    variables: dict[str, str] = {}
    observed: list[Observed] = []
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        for step in scenario:
            headers = {k: _fill(v, variables) for k, v in step.headers}
            content: bytes | None = None
            if step.raw is not None:
                content = step.raw
            elif step.json is not None:
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


def _observe(step: Step, resp: httpx.Response, variables: dict[str, str]) -> Observed:
    body: Any = None
    is_json = "json" in resp.headers.get("content-type", "")
    if is_json:
        try:
            body = resp.json()
        except ValueError:
            is_json = False
    for name, dotted in step.capture:
        value = _dig(body, dotted)
        if value is not None:
            variables[name] = str(value)
    # long captured values (run/model ids, tokens, generated names) are replaced wherever they occur
    substitutions = sorted(
        ((v, f"<{k}>") for k, v in variables.items() if len(v) >= 6), key=lambda s: -len(s[0])
    )
    if is_json:
        body = _normalise(body, substitutions)
        if step.name in DB_TEXT_MESSAGES and isinstance(body, dict) and "message" in body:
            body["message"] = str(body["message"]).split(" Error:")[0]
    elif resp.status_code == 200:
        body = {"sha256": hashlib.sha256(resp.content).hexdigest()}
    return Observed(step.name, resp.status_code, is_json, body, resp.text[:300])


def _view(o: Observed, compare: str) -> Any:
    code = o.body.get("error_code") if isinstance(o.body, dict) else None
    if compare == "status":
        return (o.status, code)
    if compare.startswith("keys:"):
        keys = compare.removeprefix("keys:").split(",")
        picked = {k: o.body.get(k) for k in keys} if isinstance(o.body, dict) else o.body
        return (o.status, o.is_json, picked)
    return (o.status, o.is_json, o.body)


def differences(
    reference: list[Observed],
    candidate: list[Observed],
    scenario: Sequence[Step] = SCENARIO,
    known_differences: Mapping[str, KnownDifference] = KNOWN_DIFFERENCES,
) -> list[str]:
    """The steps whose answers differ, except where the difference is a known one."""
    found = []
    for step, ref, cand in zip(scenario, reference, candidate, strict=True):
        if _view(ref, step.compare) == _view(cand, step.compare):
            continue
        known = known_differences.get(step.name)
        cand_code = cand.body.get("error_code") if isinstance(cand.body, dict) else None
        if known is not None and (cand.status, cand_code) == (known.status, known.error_code):
            continue
        detail = "\n".join(
            f"    at {where}: mlflow={_short(r)} runstash={_short(c)}"
            for where, r, c in _paths_that_differ(_view(ref, step.compare), _view(cand, step.compare))
        )
        found.append(f"{step.name}: {step.method} {step.path}\n{detail}")
    return found


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:300] + "..."


def _paths_that_differ(a: Any, b: Any, where: str = "$", limit: int = 8) -> list[tuple[str, Any, Any]]:
    """The first `limit` leaf paths where a and b differ (missing keys shown as <absent>)."""
    if type(a) is not type(b) or not isinstance(a, dict | list | tuple):
        return [] if a == b else [(where, a, b)]
    out: list[tuple[str, Any, Any]] = []
    if isinstance(a, dict):
        assert isinstance(b, dict)
        for key in sorted(set(a) | set(b)):
            out += _paths_that_differ(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{where}.{key}", limit)
    else:
        assert isinstance(b, list | tuple)
        if len(a) != len(b):
            out.append((f"{where}.length", len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            out += _paths_that_differ(x, y, f"{where}[{i}]", limit)
    return out[:limit]


@pytest.fixture(scope="module")
def reference_observed(
    reference_server_launcher: ReferenceServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Observed]:
    db = database_factory.create("sqlite")
    server = reference_server_launcher.launch(
        db.sqlalchemy_uri, str(tmp_path_factory.mktemp("diff-ref-artifacts")), workers=1
    )
    try:
        return replay(server.url)
    finally:
        server.stop()  # frees ~250 MB and a core for the rest of the session


@pytest.fixture(scope="module")
def candidate_server(
    deployment: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    db = database_factory.create("sqlite")
    artifacts = tmp_path_factory.mktemp(f"diff-{deployment}-artifacts")
    server = server_launcher.launch(deployment, db.uri, str(artifacts), label=f"diff-{deployment}")
    yield server
    server_launcher.stop(server)


def test_rest_responses_match_mlflow(
    reference_observed: list[Observed], candidate_server: RunningServer
) -> None:
    candidate = replay(candidate_server.url)
    found = differences(reference_observed, candidate)
    assert not found, f"{len(found)} of {len(SCENARIO)} steps differ from mlflow:\n" + "\n".join(found)


def test_reference_scenario_is_meaningful(reference_observed: list[Observed]) -> None:
    """Guards the scenario itself: it must exercise both successes and each error family on the
    real server, and the known differences must name real steps where MLflow really differs."""
    by_name = {o.step: o for o in reference_observed}
    statuses = {o.status for o in reference_observed}
    assert {200, 400, 404, 405} <= statuses
    codes = {o.body.get("error_code") for o in reference_observed if isinstance(o.body, dict)}
    assert {"INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS"} <= codes
    for name, known in KNOWN_DIFFERENCES.items():
        assert name in by_name, name
        ref = by_name[name]
        ref_code = ref.body.get("error_code") if isinstance(ref.body, dict) else None
        assert (ref.status, ref_code) != (known.status, known.error_code), f"{name}: mlflow no longer differs"
    # every captured id was actually captured on the reference (a broken capture hides diffs)
    assert by_name["run.get"].status == 200
    assert by_name["model.get"].status == 200
    assert by_name["history.page2"].status == 200
