"""Download headers (Content-Type, Content-Disposition) equal the real ``mlflow server``'s, on the
proxy route and on ``/get-artifact``, for names that exercise every rule: text names without an
extension (``MLmodel``, ``mlproject``; ``MLproject`` is binary there), token names sent bare,
names that need quoting or escaping, and non-ASCII names with an RFC 5987 ``filename*``."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import httpx
import pytest

from tests.support.databases import DatabaseFactory
from tests.support.reference import ReferenceServerLauncher
from tests.support.servers import ServerLauncher

NAMES = [
    *("MLmodel", "MLproject", "mlproject", "conda.yaml", "requirements.txt", "noext", "model.pkl"),
    *("plot.png", "x.PNG", "x.svg", "x.html", "my plot.png", "a,b.png", 'q"x.png', "semi;colon.png"),
    *("résumé.txt", "é.png", "日本"),
]


def _headers_by_name(url: str, names: list[str]) -> dict[tuple[str, str], tuple[int, str, str]]:
    with httpx.Client(base_url=url, timeout=30) as http:
        experiment = http.post("/api/2.0/mlflow/experiments/create", json={"name": "headers"}).json()
        run = http.post("/api/2.0/mlflow/runs/create", json=experiment).json()["run"]["info"]
        root = run["artifact_uri"].removeprefix("mlflow-artifacts:/").lstrip("/")
        seen = {}
        for name in names:
            proxy = f"/api/2.0/mlflow-artifacts/artifacts/{root}/{urllib.parse.quote(name)}"
            assert http.put(proxy, content=b"content").status_code == 200, name
            query = urllib.parse.urlencode({"run_id": run["run_id"], "path": name})
            for route, target in (("proxy", proxy), ("get-artifact", f"/get-artifact?{query}")):
                got = http.get(target)
                seen[route, name] = (
                    got.status_code,
                    got.headers.get("content-type", ""),
                    got.headers.get("content-disposition", ""),
                )
        return seen


@pytest.mark.differential
def test_download_headers_match_mlflow(
    database_factory: DatabaseFactory,
    server_launcher: ServerLauncher,
    reference_server_launcher: ReferenceServerLauncher,
    tmp_path: Path,
) -> None:
    ours = server_launcher.single(database_factory.create("sqlite").uri, str(tmp_path / "ours"))
    reference = reference_server_launcher.launch(
        database_factory.create("sqlite").sqlalchemy_uri, str(tmp_path / "ref")
    )
    expected = _headers_by_name(reference.url, NAMES)
    got = _headers_by_name(ours.url, NAMES)
    differing = {
        key: {"runstash": got[key], "mlflow": expected[key]} for key in expected if got[key] != expected[key]
    }
    assert differing == {}
    # The cases issue reports named, spelled out (so a change in the reference is noticed too).
    assert got["proxy", "mlproject"][1] == "text/plain"
    assert got["proxy", "plot.png"][2] == "attachment; filename=plot.png"
