"""Registry rows as the contract's messages, loaded in batches (one query per child table).

A page of 1,000 registered models costs four statements (models, tags, aliases, latest versions
with their tags), never one per model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from runstash_protos import registry_pb2 as pb
from sqlalchemy import Connection, Row, func, select, tuple_

from runstash_metadata.registry.validation import DELETED_STAGE
from runstash_metadata.store import schema_registry as r
from runstash_metadata.store.values import IN_CHUNK

_m = r.registered_models.c
_mt = r.registered_model_tags.c
_v = r.model_versions.c
_vt = r.model_version_tags.c
_a = r.registered_model_aliases.c

VersionKey = tuple[str, int]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def version_message(row: Row[Any], tags: list[tuple[str, str]], aliases: list[str]) -> pb.ModelVersion:
    message = pb.ModelVersion(
        name=row.name,
        version=str(row.version),
        creation_timestamp=row.creation_time,
        last_updated_timestamp=row.last_updated_time,
        current_stage=row.current_stage,
        description=row.description or "",
        source=row.source,
        run_id=row.run_id or "",
        status=pb.ModelVersionStatus.Value(row.status),
        run_link=row.run_link or "",
        tags=[pb.ModelVersionTag(key=k, value=v) for k, v in tags],
        aliases=aliases,
    )
    if row.status_message:
        message.status_message = row.status_message
    return message


def load_versions(
    conn: Connection, keys: Sequence[VersionKey], *, with_aliases: bool
) -> list[pb.ModelVersion]:
    """The live versions among ``keys``, in the order of ``keys``."""
    if not keys:
        return []
    rows: dict[VersionKey, Row[Any]] = {}
    tags: dict[VersionKey, list[tuple[str, str]]] = defaultdict(list)
    aliases: dict[VersionKey, list[str]] = defaultdict(list)
    for chunk in _chunks(list(keys)):
        pairs = tuple_(_v.name, _v.version).in_(list(chunk))
        for row in conn.execute(select(r.model_versions).where(pairs, _v.current_stage != DELETED_STAGE)):
            rows[(row.name, row.version)] = row
        tag_pairs = tuple_(_vt.name, _vt.version).in_(list(chunk))
        for t in conn.execute(
            select(_vt.name, _vt.version, _vt.key, _vt.value).where(tag_pairs).order_by(_vt.key)
        ):
            tags[(t.name, t.version)].append((t.key, t.value or ""))
        if with_aliases:
            alias_pairs = tuple_(_a.name, _a.version).in_(list(chunk))
            for a in conn.execute(
                select(_a.name, _a.version, _a.alias).where(alias_pairs).order_by(_a.alias)
            ):
                aliases[(a.name, a.version)].append(a.alias)
    return [version_message(rows[k], tags[k], aliases[k]) for k in keys if k in rows]


def latest_version_keys(
    conn: Connection, names: Sequence[str], stages: Sequence[str] | None = None, *, by_stage: bool = False
) -> dict[str, list[VersionKey]]:
    """For each model, the highest live version in each stage (optionally only ``stages``),
    by version number, or by stage name with ``by_stage`` (MLflow's search orders them so)."""
    result: dict[str, list[tuple[str, VersionKey]]] = defaultdict(list)
    for chunk in _chunks(list(names)):
        where = [_v.name.in_(list(chunk)), _v.current_stage != DELETED_STAGE]
        if stages:
            where.append(_v.current_stage.in_(list(stages)))
        query = (
            select(_v.name, _v.current_stage, func.max(_v.version).label("version"))
            .where(*where)
            .group_by(_v.name, _v.current_stage)
        )
        for row in conn.execute(query):
            result[row.name].append((row.current_stage, (row.name, int(row.version))))
    order = (lambda item: item[0]) if by_stage else (lambda item: item[1][1])
    return {name: [key for _, key in sorted(items, key=order)] for name, items in result.items()}


def load_models(
    conn: Connection, names: Sequence[str], *, by_stage: bool = False
) -> list[pb.RegisteredModel]:
    """The registered models among ``names``, in the order of ``names``."""
    if not names:
        return []
    rows: dict[str, Row[Any]] = {}
    tags: dict[str, list[tuple[str, str]]] = defaultdict(list)
    aliases: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for chunk in _chunks(list(names)):
        for row in conn.execute(select(r.registered_models).where(_m.name.in_(list(chunk)))):
            rows[row.name] = row
        for t in conn.execute(
            select(_mt.name, _mt.key, _mt.value).where(_mt.name.in_(list(chunk))).order_by(_mt.key)
        ):
            tags[t.name].append((t.key, t.value or ""))
        for a in conn.execute(
            select(_a.name, _a.alias, _a.version).where(_a.name.in_(list(chunk))).order_by(_a.alias)
        ):
            aliases[a.name].append((a.alias, a.version))
    latest = latest_version_keys(conn, list(rows), by_stage=by_stage)
    versions = {
        (v.name, int(v.version)): v
        for v in load_versions(conn, [k for keys in latest.values() for k in keys], with_aliases=False)
    }
    return [
        _model_message(
            rows[n], tags[n], aliases[n], [versions[k] for k in latest.get(n, []) if k in versions]
        )
        for n in names
        if n in rows
    ]


def _model_message(
    row: Row[Any],
    tags: list[tuple[str, str]],
    aliases: list[tuple[str, int]],
    latest: list[pb.ModelVersion],
) -> pb.RegisteredModel:
    message = pb.RegisteredModel(
        name=row.name,
        creation_timestamp=row.creation_time,
        last_updated_timestamp=row.last_updated_time,
        latest_versions=latest,
        tags=[pb.RegisteredModelTag(key=k, value=v) for k, v in tags],
        aliases=[pb.RegisteredModelAlias(alias=a, version=str(v)) for a, v in aliases],
    )
    if row.description is not None:
        message.description = row.description
    return message
