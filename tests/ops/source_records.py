"""What an import source yields, read whole and compared: the database source must give, record
for record and field for field, what the server's REST API gives."""

from __future__ import annotations

from typing import Any

from runstash_server.transfer.source import Source


def records(source: Source, long_run: str) -> dict[str, Any]:
    """Everything a source yields, as the copier reads it (one run's "loss" history in full)."""
    experiments = source.experiments()
    ids = [e["experiment_id"] for e in experiments]
    runs = {r["info"]["run_id"]: r for e in ids for r in source.runs(e)}
    history = [p for page in source.history(long_run, "loss") for p in page]
    models = source.registered_models()
    return {
        "experiments": {e["experiment_id"]: e for e in experiments},
        "runs": runs,
        "long_history": sorted((p["step"], p["timestamp"], p["value"]) for p in history),
        "logged_models": {m["info"]["model_id"]: m for m in source.logged_models(ids)},
        "registered_models": {m["name"]: m for m in models},
        "versions": {m["name"]: source.model_versions(m["name"]) for m in models},
    }


def _comparable_run(run: dict[str, Any]) -> dict[str, Any]:
    """A run with its lists in key order (MLflow's REST orders tags and params by insertion)."""
    data = {k: sorted(v, key=lambda i: i["key"]) for k, v in run.get("data", {}).items()}
    return {**run, "data": data}


def assert_same_records(expected: dict[str, Any], got: dict[str, Any]) -> None:
    assert got["long_history"] == expected["long_history"]
    assert got["experiments"] == expected["experiments"]
    assert sorted(got["runs"]) == sorted(expected["runs"])
    for run_id, run in expected["runs"].items():
        assert _comparable_run(got["runs"][run_id]) == _comparable_run(run), run_id
    assert got["logged_models"].keys() == expected["logged_models"].keys()
    for model_id, model in expected["logged_models"].items():
        assert got["logged_models"][model_id]["info"] == model["info"], model_id
        params = got["logged_models"][model_id].get("data", {}).get("params")
        assert params == model.get("data", {}).get("params"), model_id
    assert got["registered_models"] == expected["registered_models"]
    assert got["versions"] == expected["versions"]
