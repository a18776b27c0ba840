"""Everything a tracking server holds, read over its REST API into one comparable structure:
experiments, runs (info, params, tags, latest metrics, inputs, outputs, full histories), logged
models, artifacts (sha256 of every file) and the registry. Two servers holding the same data give
equal snapshots, registry timestamps included (the import sets them back after recreating those
records through the registry API)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def _pages(
    http: httpx.Client, method: str, path: str, body: dict[str, Any], key: str
) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        args = {**body, **({"page_token": token} if token else {})}
        answer = http.post(API + path, json=args) if method == "POST" else http.get(API + path, params=args)
        assert answer.status_code == 200, (path, answer.text)
        page = answer.json()
        yield from page.get(key, [])
        token = page.get("next_page_token")
        if not token:
            return


def _by_key(items: list[dict[str, Any]], key: str = "key") -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: str(item.get(key)))


def _history(http: httpx.Client, run_id: str, key: str) -> list[tuple[int, int, float]]:
    body = {"run_id": run_id, "metric_key": key, "max_results": 25000}
    points = _pages(http, "GET", "/metrics/get-history", body, "metrics")
    return sorted((int(m.get("step", 0)), int(m["timestamp"]), float(m["value"])) for m in points)


def _files(http: httpx.Client, rel: str) -> dict[str, str]:
    answer = http.get(ARTIFACTS, params={"path": rel})
    assert answer.status_code == 200, answer.text
    found: dict[str, str] = {}
    for entry in answer.json().get("files", []):
        path = f"{rel}/{entry['path'].rsplit('/', 1)[-1]}"
        if entry.get("is_dir"):
            found.update(_files(http, path))
            continue
        digest = hashlib.sha256()
        with http.stream("GET", f"{ARTIFACTS}/{path}") as download:
            assert download.status_code == 200
            for chunk in download.iter_bytes(1 << 20):
                digest.update(chunk)
        found[path] = digest.hexdigest()
    return found


def _proxied(uri: str) -> str:
    assert uri.startswith("mlflow-artifacts:/"), uri
    return uri.removeprefix("mlflow-artifacts:").strip("/")


def _run(http: httpx.Client, run: dict[str, Any]) -> dict[str, Any]:
    data = run.get("data", {})
    run_id = run["info"]["run_id"]
    keys = sorted({m["key"] for m in data.get("metrics", [])})
    inputs = run.get("inputs", {})
    return {
        "info": run["info"],
        "params": _by_key(data.get("params", [])),
        "tags": _by_key(data.get("tags", [])),
        "metrics": _by_key(data.get("metrics", [])),
        "datasets": sorted(inputs.get("dataset_inputs", []), key=lambda d: str(d["dataset"]["name"])),
        "model_inputs": inputs.get("model_inputs", []),
        "outputs": run.get("outputs", {}).get("model_outputs", []),
        "histories": {key: _history(http, run_id, key) for key in keys},
        "artifacts": _files(http, _proxied(run["info"]["artifact_uri"])),
    }


def _registry(http: httpx.Client) -> dict[str, Any]:
    models: dict[str, Any] = {}
    for model in _pages(http, "GET", "/registered-models/search", {"max_results": 1000}, "registered_models"):
        name = model["name"]
        body = {"filter": f"name='{name}'", "max_results": 1000}
        versions = _pages(http, "GET", "/model-versions/search", body, "model_versions")
        keep: tuple[str, ...] = ("version", "source", "run_id", "description", "status", "model_id")
        keep += ("creation_timestamp", "last_updated_timestamp")
        models[name] = {
            "creation_timestamp": model.get("creation_timestamp"),
            "last_updated_timestamp": model.get("last_updated_timestamp"),
            "description": model.get("description", ""),
            "tags": _by_key(model.get("tags", [])),
            "aliases": sorted((a["alias"], a["version"]) for a in model.get("aliases", [])),
            "versions": sorted(
                ({k: v.get(k) for k in keep} | {"tags": _by_key(v.get("tags", []))} for v in versions),
                key=lambda v: int(str(v["version"])),
            ),
        }
    return models


def snapshot(base_url: str) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, timeout=120) as http:
        experiments = list(
            _pages(
                http, "POST", "/experiments/search", {"view_type": "ALL", "max_results": 1000}, "experiments"
            )
        )
        ids = [e["experiment_id"] for e in experiments]
        runs: dict[str, Any] = {}
        for experiment_id in ids:
            body = {"experiment_ids": [experiment_id], "run_view_type": "ALL", "max_results": 1000}
            for run in _pages(http, "POST", "/runs/search", body, "runs"):
                runs[run["info"]["run_id"]] = _run(http, run)
        models = {
            m["info"]["model_id"]: {
                "info": {k: v for k, v in m["info"].items() if k != "registrations"},
                "params": _by_key(m.get("data", {}).get("params", [])),
                "artifacts": _files(http, _proxied(m["info"]["artifact_uri"])),
            }
            for m in _pages(
                http, "POST", "/logged-models/search", {"experiment_ids": ids, "max_results": 100}, "models"
            )
        }
        return {
            "experiments": {
                e["experiment_id"]: {**e, "tags": _by_key(e.get("tags", []))} for e in experiments
            },
            "runs": runs,
            "logged_models": models,
            "registry": _registry(http),
        }
