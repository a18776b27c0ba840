"""Registered models, their tags and aliases: plain store functions ``(conn, q, ...)``.

The servicer owns the transaction; each function runs a fixed number of statements on ``conn``.
"""

from __future__ import annotations

from collections.abc import Sequence

from runstash_protos import registry_pb2 as pb
from runstash_protos.errors import already_exists, invalid_parameter, not_found
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from runstash_metadata.registry.rows import load_models
from runstash_metadata.registry.validation import DELETED_STAGE, PROMPT_TAG
from runstash_metadata.store import schema_registry as r
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import now_ms

_m = r.registered_models.c
_mt = r.registered_model_tags.c
_v = r.model_versions.c
_vt = r.model_version_tags.c
_a = r.registered_model_aliases.c
# Every table keyed by a model name: a rename moves them all, a delete clears them all.
_NAMED_TABLES = (
    r.registered_model_tags,
    r.model_version_tags,
    r.registered_model_aliases,
    r.model_versions,
    r.registered_models,
)


def model_not_found(name: str) -> Exception:
    return not_found(f"Registered Model with name={name} not found")


def is_prompt(conn: Connection, name: str) -> bool:
    value = conn.execute(select(_mt.value).where(_mt.name == name, _mt.key == PROMPT_TAG)).scalar()
    return value is not None and value.lower() == "true"


def require_model(conn: Connection, name: str) -> None:
    if conn.execute(select(_m.name).where(_m.name == name)).first() is None:
        raise model_not_found(name)


def touch_model(conn: Connection, name: str, now: int) -> None:
    """Bump ``last_updated_time``; also the row lock that serialises writers of one model."""
    result = conn.execute(update(r.registered_models).where(_m.name == name).values(last_updated_time=now))
    if result.rowcount == 0:
        raise model_not_found(name)


def create_model(
    conn: Connection,
    q: Queries,
    name: str,
    tags: Sequence[tuple[str, str]],
    description: str | None,
    *,
    prompt: bool,
) -> pb.RegisteredModel:
    existing = conn.execute(select(_m.name).where(_m.name == name)).first()
    if existing is not None:
        raise _name_taken(conn, name, prompt)
    now = now_ms()
    try:
        conn.execute(
            insert(r.registered_models).values(
                name=name, creation_time=now, last_updated_time=now, description=description
            )
        )
    except IntegrityError:
        raise _name_taken(conn, name, prompt) from None
    unique = dict(tags)
    if unique:
        conn.execute(
            insert(r.registered_model_tags), [{"name": name, "key": k, "value": v} for k, v in unique.items()]
        )
    return get_model(conn, name)


def _name_taken(conn: Connection, name: str, prompt: bool) -> Exception:
    existing_is_prompt = is_prompt(conn, name)
    if existing_is_prompt == prompt:
        kind = "Prompt" if prompt else "Registered Model"
        return already_exists(f"{kind} (name={name}) already exists.")
    if prompt:
        return already_exists(
            f"Tried to create a prompt with name '{name}', but the name is already taken by a "
            "registered model. MLflow does not allow creating a model and a prompt with the same name."
        )
    return already_exists(
        f"Tried to create a registered model with name '{name}', but the name is already taken by "
        "a prompt. MLflow does not allow creating a model and a prompt with the same name."
    )


def get_model(conn: Connection, name: str) -> pb.RegisteredModel:
    models = load_models(conn, [name])
    if not models:
        raise model_not_found(name)
    return models[0]


def update_model(conn: Connection, q: Queries, name: str, description: str | None) -> pb.RegisteredModel:
    result = conn.execute(
        update(r.registered_models)
        .where(_m.name == name)
        .values(description=description, last_updated_time=now_ms())
    )
    if result.rowcount == 0:
        raise model_not_found(name)
    return get_model(conn, name)


def rename_model(conn: Connection, q: Queries, name: str, new_name: str) -> pb.RegisteredModel:
    require_model(conn, name)
    if conn.execute(select(_m.name).where(_m.name == new_name)).first() is not None:
        raise already_exists(f"Registered Model (name={new_name}) already exists.")
    now = now_ms()
    for table in reversed(_NAMED_TABLES):
        values: dict[str, object] = {"name": new_name}
        if table is r.registered_models or table is r.model_versions:
            values["last_updated_time"] = now
        conn.execute(update(table).where(table.c.name == name).values(**values))
    return get_model(conn, new_name)


def delete_model(conn: Connection, q: Queries, name: str) -> None:
    require_model(conn, name)
    for table in _NAMED_TABLES:
        conn.execute(delete(table).where(table.c.name == name))


def set_model_tag(conn: Connection, q: Queries, name: str, key: str, value: str) -> None:
    touch_model(conn, name, now_ms())
    conn.execute(
        q.upsert(r.registered_model_tags, ["name", "key"], ["value"]),
        {"name": name, "key": key, "value": value},
    )


def delete_model_tag(conn: Connection, q: Queries, name: str, key: str) -> None:
    touch_model(conn, name, now_ms())
    conn.execute(delete(r.registered_model_tags).where(_mt.name == name, _mt.key == key))


def set_alias(conn: Connection, q: Queries, name: str, alias: str, version: int) -> None:
    live = conn.execute(
        select(_v.version).where(_v.name == name, _v.version == version, _v.current_stage != DELETED_STAGE)
    ).first()
    if live is None:
        raise not_found(f"Model Version (name={name}, version={version}) not found")
    conn.execute(
        q.upsert(r.registered_model_aliases, ["name", "alias"], ["version"]),
        {"name": name, "alias": alias, "version": version},
    )


def delete_alias(conn: Connection, q: Queries, name: str, alias: str) -> None:
    require_model(conn, name)
    conn.execute(delete(r.registered_model_aliases).where(_a.name == name, _a.alias == alias))


def alias_version(conn: Connection, name: str, alias: str) -> int:
    require_model(conn, name)
    version = conn.execute(select(_a.version).where(_a.name == name, _a.alias == alias)).scalar()
    if version is None:
        raise invalid_parameter(f"Registered model alias {alias} not found.")
    return int(version)
