"""Model versions, their tags and stages: plain store functions ``(conn, q, ...)``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from runstash_protos import registry_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError, not_found
from sqlalchemy import Connection, delete, func, insert, select, update

from runstash_metadata.registry.models import require_model, touch_model
from runstash_metadata.registry.rows import latest_version_keys, load_versions
from runstash_metadata.registry.validation import ACTIVE_STAGES, DELETED_STAGE
from runstash_metadata.store import schema as s
from runstash_metadata.store import schema_registry as r
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import now_ms

_v = r.model_versions.c
_vt = r.model_version_tags.c
_a = r.registered_model_aliases.c
_lmt = s.logged_model_tags.c
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
_REDACTED = "REDACTED-SOURCE-PATH"


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A checked create request: ``source`` as stored, ``storage_location`` as downloaded."""

    name: str
    source: str
    storage_location: str
    run_id: str | None
    run_link: str | None
    description: str | None
    model_id: str | None
    tags: Sequence[tuple[str, str]]


def version_not_found(name: str, version: int | str) -> RunstashError:
    return not_found(f"Model Version (name={name}, version={version}) not found")


def require_version(conn: Connection, name: str, version: int) -> None:
    live = conn.execute(
        select(_v.version).where(_v.name == name, _v.version == version, _v.current_stage != DELETED_STAGE)
    ).first()
    if live is None:
        raise version_not_found(name, version)


def create_version(conn: Connection, q: Queries, new: NewVersion) -> pb.ModelVersion:
    now = now_ms()
    touch_model(conn, new.name, now)  # also locks the model row: version numbers never collide
    top = conn.execute(select(func.max(_v.version)).where(_v.name == new.name)).scalar()
    version = int(top or 0) + 1
    conn.execute(
        insert(r.model_versions).values(
            name=new.name,
            version=version,
            creation_time=now,
            last_updated_time=now,
            description=new.description,
            current_stage="None",
            source=new.source,
            storage_location=new.storage_location,
            run_id=new.run_id,
            run_link=new.run_link,
            model_id=new.model_id,
            status="READY",
        )
    )
    tags = dict(new.tags)
    if tags:
        conn.execute(
            insert(r.model_version_tags),
            [{"name": new.name, "version": version, "key": k, "value": v} for k, v in tags.items()],
        )
    if new.model_id:
        _link_logged_model(conn, q, new.model_id, new.name, version)
    return get_version(conn, new.name, version)


def _link_logged_model(conn: Connection, q: Queries, model_id: str, name: str, version: int) -> None:
    """Append ``{"name", "version"}`` to the logged model's ``mlflow.modelVersions`` tag."""
    row = conn.execute(
        select(s.logged_models.c.experiment_id).where(s.logged_models.c.model_id == model_id)
    ).first()
    if row is None:
        return
    current = conn.execute(
        select(_lmt.tag_value).where(_lmt.model_id == model_id, _lmt.tag_key == MODEL_VERSIONS_TAG)
    ).scalar()
    try:
        entries = json.loads(current) if current else []
    except ValueError:
        entries = []
    if not isinstance(entries, list):
        entries = []
    entries.append({"name": name, "version": version})
    conn.execute(
        q.upsert(s.logged_model_tags, ["model_id", "tag_key"], ["tag_value"]),
        {
            "model_id": model_id,
            "experiment_id": row.experiment_id,
            "tag_key": MODEL_VERSIONS_TAG,
            "tag_value": json.dumps(entries),
        },
    )


def get_version(conn: Connection, name: str, version: int) -> pb.ModelVersion:
    found = load_versions(conn, [(name, version)], with_aliases=True)
    if not found:
        raise version_not_found(name, version)
    return found[0]


def update_version(
    conn: Connection, q: Queries, name: str, version: int, description: str | None
) -> pb.ModelVersion:
    _touch_version(conn, name, version, description=description)
    return get_version(conn, name, version)


def _touch_version(conn: Connection, name: str, version: int, **values: object) -> None:
    result = conn.execute(
        update(r.model_versions)
        .where(_v.name == name, _v.version == version, _v.current_stage != DELETED_STAGE)
        .values(last_updated_time=now_ms(), **values)
    )
    if result.rowcount == 0:
        raise version_not_found(name, version)


def transition_stage(
    conn: Connection, q: Queries, name: str, version: int, *, stage: str, archive_existing: bool
) -> pb.ModelVersion:
    if archive_existing and stage not in ACTIVE_STAGES:
        raise RunstashError(
            ErrorCode.INTERNAL_ERROR,
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}",
        )
    now = now_ms()
    _touch_version(conn, name, version, current_stage=stage)
    if archive_existing:
        conn.execute(
            update(r.model_versions)
            .where(_v.name == name, _v.version != version, _v.current_stage == stage)
            .values(current_stage="Archived", last_updated_time=now)
        )
    touch_model(conn, name, now)
    return get_version(conn, name, version)


def delete_version(conn: Connection, q: Queries, name: str, version: int) -> None:
    """Soft delete: the number stays taken; source and run are redacted, aliases dropped."""
    now = now_ms()
    _touch_version(
        conn,
        name,
        version,
        current_stage=DELETED_STAGE,
        source=_REDACTED,
        storage_location=_REDACTED,
        run_id=None,
        run_link=None,
        description=None,
    )
    conn.execute(delete(r.registered_model_aliases).where(_a.name == name, _a.version == version))
    conn.execute(delete(r.model_version_tags).where(_vt.name == name, _vt.version == version))
    touch_model(conn, name, now)


def set_version_tag(conn: Connection, q: Queries, name: str, version: int, *, key: str, value: str) -> None:
    _touch_version(conn, name, version)
    conn.execute(
        q.upsert(r.model_version_tags, ["name", "version", "key"], ["value"]),
        {"name": name, "version": version, "key": key, "value": value},
    )


def delete_version_tag(conn: Connection, q: Queries, name: str, version: int, key: str) -> None:
    _touch_version(conn, name, version)
    conn.execute(delete(r.model_version_tags).where(_vt.name == name, _vt.version == version, _vt.key == key))


def latest_versions(conn: Connection, name: str, stages: Sequence[str]) -> list[pb.ModelVersion]:
    require_model(conn, name)
    keys = latest_version_keys(conn, [name], stages or None).get(name, [])
    return load_versions(conn, keys, with_aliases=True)


def download_uri(conn: Connection, name: str, version: int) -> str:
    location = conn.execute(
        select(_v.storage_location).where(
            _v.name == name, _v.version == version, _v.current_stage != DELETED_STAGE
        )
    ).scalar()
    if location is None:
        raise version_not_found(name, version)
    return str(location)


def source_of(conn: Connection, name: str, version: int) -> tuple[str, str | None, str | None]:
    """(storage location, run_id, model_id) of a live version, for copies (``models:/n/v``)."""
    row = conn.execute(
        select(_v.storage_location, _v.run_id, _v.model_id).where(
            _v.name == name, _v.version == version, _v.current_stage != DELETED_STAGE
        )
    ).first()
    if row is None:
        raise version_not_found(name, version)
    return str(row.storage_location), row.run_id, row.model_id
