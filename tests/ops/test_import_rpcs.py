"""The import RPCs the importer's fast paths use, against a real runstash server: ImportMetrics
(one metric's points column-wise, resendable) and ImportRegistryTimes; bad input answers MLflow's
error code and status and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.databases import Database
from tests.support.servers import ServerLauncher

IMPORT = "/api/2.0/runstash/import"
API = "/api/2.0/mlflow"


def _history(http: httpx.Client, run_id: str, key: str) -> list[tuple[int, int, Any]]:
    answer = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": key})
    assert answer.status_code == 200, answer.text
    return sorted((int(m["step"]), int(m["timestamp"]), m["value"]) for m in answer.json()["metrics"])


def test_import_metrics_and_registry_times(
    server_launcher: ServerLauncher, database: Database, tmp_path: Path
) -> None:
    server = server_launcher.single(database.uri, str(tmp_path / "artifacts"))
    with httpx.Client(base_url=server.url, timeout=60) as http:
        eid = http.post(f"{API}/experiments/create", json={"name": "imported"}).json()["experiment_id"]
        run_id = http.post(f"{API}/runs/create", json={"experiment_id": eid}).json()["run"]["info"]["run_id"]
        body = {
            "run_id": run_id,
            "key": "loss",
            "values": [0.5, "NaN", "Infinity", 0.25],
            "timestamps": [10, 11, 12, 13],
            "steps": [0, 1, 2, 3],
        }
        first = http.post(f"{IMPORT}/metrics", json=body)
        assert first.status_code == 200, first.text
        assert int(first.json()["points"]) == 4
        again = http.post(f"{IMPORT}/metrics", json=body)  # a resent chunk: no duplicate points
        assert again.status_code == 200, again.text
        stored = _history(http, run_id, "loss")
        assert [(s, t) for s, t, _ in stored] == [(0, 10), (1, 11), (2, 12), (3, 13)]
        assert stored[0][2] == 0.5 and stored[1][2] == "NaN" and stored[3][2] == 0.25

        bad = http.post(f"{IMPORT}/metrics", json={**body, "steps": [4, 5], "values": [1.0, 2.0]})
        assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE", bad.text
        negative = http.post(f"{IMPORT}/metrics", json={**body, "timestamps": [-1, 20, 21, 22]})
        assert negative.status_code == 400 and negative.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        unknown = http.post(f"{IMPORT}/metrics", json={**body, "run_id": "0" * 32})
        assert unknown.status_code == 404 and unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert _history(http, run_id, "loss") == stored

        http.post(f"{API}/registered-models/create", json={"name": "m"}).raise_for_status()
        http.post(
            f"{API}/model-versions/create",
            json={"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id},
        ).raise_for_status()
        times = {
            "name": "m",
            "creation_timestamp": 1_000,
            "last_updated_timestamp": 2_000,
            "versions": [{"version": "1", "creation_timestamp": 1_500, "last_updated_timestamp": 1_700}],
        }
        assert http.post(f"{IMPORT}/registry-times", json=times).status_code == 200
        model = http.get(f"{API}/registered-models/get", params={"name": "m"}).json()["registered_model"]
        assert (int(model["creation_timestamp"]), int(model["last_updated_timestamp"])) == (1_000, 2_000)
        version = http.get(f"{API}/model-versions/get", params={"name": "m", "version": "1"}).json()
        stamps = version["model_version"]
        assert (int(stamps["creation_timestamp"]), int(stamps["last_updated_timestamp"])) == (1_500, 1_700)
        missing = http.post(f"{IMPORT}/registry-times", json={**times, "name": "nope"})
        assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        bad_version = http.post(f"{IMPORT}/registry-times", json={**times, "versions": [{"version": "x"}]})
        assert bad_version.status_code == 400
        model = http.get(f"{API}/registered-models/get", params={"name": "m"}).json()["registered_model"]
        assert int(model["creation_timestamp"]) == 1_000
