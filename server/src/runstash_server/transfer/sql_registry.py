"""The model registry read from an MLflow database (see sql_source.py), in the shapes of MLflow's
REST API. Versions MLflow keeps as deleted (stage ``Deleted_Internal``) are left out, as its API
leaves them out."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, text

Json = dict[str, Any]
_DELETED = "Deleted_Internal"


def registered_models(conn: Connection) -> list[Json]:
    tags: dict[str, list[Json]] = defaultdict(list)
    for t in conn.execute(text("SELECT name, key, value FROM registered_model_tags ORDER BY key")):
        tags[t.name].append({"key": t.key, "value": t.value})
    aliases: dict[str, list[Json]] = defaultdict(list)
    for a in conn.execute(text("SELECT name, alias, version FROM registered_model_aliases ORDER BY alias")):
        aliases[a.name].append({"alias": a.alias, "version": str(a.version)})
    found = conn.execute(
        text(
            "SELECT name, creation_time, last_updated_time, description FROM registered_models ORDER BY name"
        )
    )
    models = []
    for m in found:
        model: Json = {"name": m.name, "creation_timestamp": m.creation_time}
        if m.last_updated_time is not None:
            model["last_updated_timestamp"] = m.last_updated_time
        if m.description is not None:
            model["description"] = m.description
        if tags[m.name]:
            model["tags"] = tags[m.name]
        latest = _latest_versions(model_versions(conn, m.name))
        if latest:
            model["latest_versions"] = latest
        if aliases[m.name]:
            model["aliases"] = aliases[m.name]
        models.append(model)
    return models


def _latest_versions(versions: list[Json]) -> list[Json]:
    """The newest version in each stage, stages in the order they first appear (MLflow's rule)."""
    latest: dict[str, Json] = {}
    for version in versions:
        stage = version.get("current_stage", "")
        if stage not in latest or int(latest[stage]["version"]) < int(version["version"]):
            latest[stage] = version
    return list(latest.values())


def model_versions(conn: Connection, name: str) -> list[Json]:
    tags: dict[int, list[Json]] = defaultdict(list)
    for t in conn.execute(
        text("SELECT version, key, value FROM model_version_tags WHERE name = :n ORDER BY key"), {"n": name}
    ):
        tags[t.version].append({"key": t.key, "value": t.value})
    found = conn.execute(
        text("SELECT * FROM model_versions WHERE name = :n AND current_stage <> :deleted ORDER BY version"),
        {"n": name, "deleted": _DELETED},
    )
    return [_version(v, tags[v.version]) for v in found]


def _version(v: Any, tags: list[Json]) -> Json:
    version: Json = {
        "name": v.name,
        "version": str(v.version),
        "creation_timestamp": v.creation_time,
        "last_updated_timestamp": v.last_updated_time,
        "user_id": v.user_id,
        "current_stage": v.current_stage,
        "description": v.description,
        "source": v.source,
        "run_id": v.run_id,
        "status": v.status,
        "status_message": v.status_message,
        "run_link": v.run_link,
    }
    version = {k: val for k, val in version.items() if val is not None}
    if tags:
        version["tags"] = tags
    return version
