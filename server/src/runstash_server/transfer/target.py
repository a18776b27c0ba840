"""Where an import writes: a running runstash reached over its API (:class:`RestTarget`), or an
export directory (``directory.DirTarget``). Every write is an idempotent upsert, so a unit cut
short by a crash is simply written again."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any, Protocol

from runstash_server.transfer.rest import API, Rest, RestError

IMPORT = "/api/2.0/runstash/import"
LOG_BATCH = 1000
Json = dict[str, Any]


class Target(Protocol):
    def experiment(self, experiment: Json) -> None: ...
    def logged_model(self, model: Json) -> None: ...
    def run(self, run: Json, *, final: bool) -> None:
        """The run's record: first active (its history is written next), then as it ends."""
        ...

    def metrics(self, run_id: str, key: str, points: list[Json]) -> None: ...
    def inputs_outputs(self, run: Json) -> None: ...
    def upload(self, path: str, chunks: Iterator[bytes]) -> None: ...
    def registered_model(self, model: Json, versions: list[Json]) -> int:
        """The model, its versions and aliases; returns how many versions were created."""
        ...

    def close(self) -> None: ...


def import_run_body(run: Json, *, final: bool) -> Json:
    info = dict(run["info"])
    data = run.get("data", {})
    body: Json = {"info": info, "params": data.get("params", []), "tags": data.get("tags", [])}
    if not final:
        info["lifecycle_stage"] = "active"
    elif info.get("lifecycle_stage") == "deleted":
        # MLflow's REST does not show when a run was deleted: the import is the deletion time gc sees.
        body["deleted_time"] = int(time.time() * 1000)
    return body


def experiment_body(e: Json) -> Json:
    keys = (
        "experiment_id",
        "name",
        "artifact_location",
        "lifecycle_stage",
        "creation_time",
        "last_update_time",
    )
    return {k: e[k] for k in (*keys, "tags") if k in e}


def model_body(m: Json) -> Json:
    return {"info": m["info"], "params": m.get("data", {}).get("params", []), "lifecycle_stage": "active"}


def _json_double(value: Any) -> Any:
    """proto3 JSON's spelling of the non-finite doubles (plain JSON has none)."""
    number = float(value)
    if math.isfinite(number):
        return number
    return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")


def metric_columns(run_id: str, key: str, points: list[Json]) -> Json:
    """An ImportMetrics body: one metric's points column-wise."""
    return {
        "run_id": run_id,
        "key": key,
        "values": [_json_double(p["value"]) for p in points],
        "timestamps": [int(p["timestamp"]) for p in points],
        "steps": [int(p.get("step", 0)) for p in points],
    }


class RestTarget:
    """A runstash server: records through the administrators' import RPCs, metric histories
    column-wise through ImportMetrics (the bulk insert path), the rest through the ordinary API."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest

    def close(self) -> None:
        self.rest.close()

    def experiment(self, experiment: Json) -> None:
        self.rest.post("/experiment", experiment_body(experiment), prefix=IMPORT)

    def logged_model(self, model: Json) -> None:
        self.rest.post("/logged-model", model_body(model), prefix=IMPORT)

    def run(self, run: Json, *, final: bool) -> None:
        self.rest.post("/run", import_run_body(run, final=final), prefix=IMPORT)

    def metrics(self, run_id: str, key: str, points: list[Json]) -> None:
        plain = [p for p in points if not (p.get("model_id") or p.get("dataset_name"))]
        if plain:
            self.rest.post("/metrics", metric_columns(run_id, key, plain), prefix=IMPORT)
        linked = [p for p in points if p.get("model_id") or p.get("dataset_name")]
        for i in range(0, len(linked), LOG_BATCH):  # a logged model's metrics: log-batch links them
            self.rest.post("/runs/log-batch", {"run_id": run_id, "metrics": linked[i : i + LOG_BATCH]})

    def inputs_outputs(self, run: Json) -> None:
        run_id = run["info"]["run_id"]
        inputs = run.get("inputs", {})
        datasets = inputs.get("dataset_inputs", [])
        models = [{"model_id": m["model_id"]} for m in inputs.get("model_inputs", [])]
        if datasets or models:
            self.rest.post("/runs/log-inputs", {"run_id": run_id, "datasets": datasets, "models": models})
        outputs = run.get("outputs", {}).get("model_outputs", [])
        if outputs:
            self.rest.post("/runs/outputs", {"run_id": run_id, "models": outputs})

    def upload(self, path: str, chunks: Iterator[bytes]) -> None:
        self.rest.upload(path, chunks)

    def registered_model(self, model: Json, versions: list[Json]) -> int:
        name = model["name"]
        try:
            body = {"name": name, "tags": model.get("tags", []), "description": model.get("description", "")}
            self.rest.post("/registered-models/create", body)
        except RestError as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        have = max((int(v["version"]) for v in self._versions(name)), default=0)
        created = 0
        for version in versions:
            if int(version["version"]) > have:
                self.rest.post("/model-versions/create", _version_body(name, version))
                created += 1
        for alias in model.get("aliases", []):
            body = {"name": name, "alias": alias["alias"], "version": alias["version"]}
            self.rest.post("/registered-models/alias", body)
        self.rest.post("/registry-times", _registry_times(model, versions), prefix=IMPORT)
        return created

    def _versions(self, name: str) -> list[Json]:
        body = {"filter": f"name='{name}'", "max_results": 1000}
        return list(self.rest.pages("/model-versions/search", body, "model_versions", method="GET"))


def _version_body(name: str, version: Json) -> Json:
    keys = ("source", "run_id", "tags", "description", "run_link", "model_id")
    body = {"name": name, **{k: version[k] for k in keys if version.get(k)}}
    source = str(version.get("source", ""))
    if "model_id" not in body and source.startswith("models:/") and "/" not in source[8:]:
        body["model_id"] = source[8:]  # MLflow's version search leaves model_id out
    return body


def _registry_times(model: Json, versions: list[Json]) -> Json:
    """The source's timestamps (the registry API stamps created records with the import's time).
    Set last, after aliases and tags, which touch a model's update time."""
    stamps = ("creation_timestamp", "last_updated_timestamp")
    return {
        "name": model["name"],
        **{k: model[k] for k in stamps if k in model},
        "versions": [{"version": str(v["version"]), **{k: v[k] for k in stamps if k in v}} for v in versions],
    }


__all__ = ["API", "IMPORT", "RestTarget", "Target", "import_run_body"]
