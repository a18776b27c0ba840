"""The model registry copied over the target's own REST API: registered models with their tags
and description, versions in number order (each version's number is kept when the source has no
gaps), aliases. Versions the target already has are left alone."""

from __future__ import annotations

from typing import Any

from runstash_server.transfer.rest import Rest, RestError
from runstash_server.transfer.state import State


def _versions(rest: Rest, name: str) -> list[dict[str, Any]]:
    body = {"filter": f"name='{name}'", "max_results": 1000}
    found = list(rest.pages("/model-versions/search", body, "model_versions", method="GET"))
    return sorted(found, key=lambda v: int(v["version"]))


def _copy_model(src: Rest, dst: Rest, model: dict[str, Any]) -> int:
    name = model["name"]
    try:
        body = {"name": name, "tags": model.get("tags", []), "description": model.get("description", "")}
        dst.post("/registered-models/create", body)
    except RestError as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    have = max((int(v["version"]) for v in _versions(dst, name)), default=0)
    created = 0
    for version in _versions(src, name):
        if int(version["version"]) <= have:
            continue
        keys = ("source", "run_id", "tags", "description", "run_link", "model_id")
        body = {"name": name, **{k: version[k] for k in keys if version.get(k)}}
        source = str(version.get("source", ""))
        if "model_id" not in body and source.startswith("models:/") and "/" not in source[8:]:
            body["model_id"] = source[8:]  # MLflow's version search leaves model_id out
        dst.post("/model-versions/create", body)
        created += 1
    for alias in model.get("aliases", []):
        dst.post(
            "/registered-models/alias", {"name": name, "alias": alias["alias"], "version": alias["version"]}
        )
    return created


def copy_registry(src: Rest, dst: Rest, state: State) -> tuple[int, int]:
    """(registered models, model versions created)."""
    models = versions = 0
    for model in src.pages(
        "/registered-models/search", {"max_results": 1000}, "registered_models", method="GET"
    ):
        if not state.done("registered-model", model["name"]):
            versions += _copy_model(src, dst, model)
            state.mark("registered-model", model["name"])
        models += 1
    return models, versions
