"""Webhook subscriptions and delivery records: plain store functions ``(conn, ...)``.

The secret is kept server-side only (never in a response), sealed (``sealing.py``): these
functions store and return the sealed form. Deletion is soft, as in MLflow.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runstash_protos import registry_pb2 as pb
from runstash_protos.errors import not_found
from sqlalchemy import Connection, Row, delete, insert, select, update

from runstash_metadata.search.page_token import decode_offset, encode_offset
from runstash_metadata.store import schema_registry as r
from runstash_metadata.store.values import now_ms

_w = r.webhooks.c
_e = r.webhook_events.c


@dataclass(frozen=True, slots=True)
class Target:
    """A subscribed, active webhook as the deliverer needs it."""

    webhook_id: str
    url: str
    secret: str | None


@dataclass(frozen=True, slots=True)
class WebhookFields:
    name: str | None = None
    description: str | None = None
    url: str | None = None
    events: Sequence[tuple[str, str]] | None = None
    secret: str | None = None
    status: str | None = None


def _not_found(webhook_id: str) -> Exception:
    return not_found(f"Webhook with ID {webhook_id} not found.")


def create_webhook(conn: Connection, fields: WebhookFields) -> pb.Webhook:
    webhook_id = str(uuid.uuid4())
    now = now_ms()
    conn.execute(
        insert(r.webhooks).values(
            webhook_id=webhook_id,
            name=fields.name,
            description=fields.description,
            url=fields.url,
            secret=fields.secret,
            status=fields.status or "ACTIVE",
            creation_timestamp=now,
            last_updated_timestamp=now,
        )
    )
    _insert_events(conn, webhook_id, fields.events or ())
    return get_webhook(conn, webhook_id)


def _insert_events(conn: Connection, webhook_id: str, events: Sequence[tuple[str, str]]) -> None:
    if events:
        conn.execute(
            insert(r.webhook_events),
            [{"webhook_id": webhook_id, "entity": e, "action": a} for e, a in events],
        )


def update_webhook(conn: Connection, webhook_id: str, fields: WebhookFields) -> pb.Webhook:
    values: dict[str, Any] = {"last_updated_timestamp": now_ms()}
    for column, value in (
        ("name", fields.name),
        ("description", fields.description),
        ("url", fields.url),
        ("secret", fields.secret),
        ("status", fields.status),
    ):
        if value is not None:
            values[column] = value
    result = conn.execute(
        update(r.webhooks).where(_w.webhook_id == webhook_id, _w.deleted_timestamp.is_(None)).values(**values)
    )
    if result.rowcount == 0:
        raise _not_found(webhook_id)
    if fields.events is not None:
        conn.execute(delete(r.webhook_events).where(_e.webhook_id == webhook_id))
        _insert_events(conn, webhook_id, fields.events)
    return get_webhook(conn, webhook_id)


def delete_webhook(conn: Connection, webhook_id: str) -> None:
    result = conn.execute(
        update(r.webhooks)
        .where(_w.webhook_id == webhook_id, _w.deleted_timestamp.is_(None))
        .values(deleted_timestamp=now_ms())
    )
    if result.rowcount == 0:
        raise _not_found(webhook_id)


def get_webhook(conn: Connection, webhook_id: str) -> pb.Webhook:
    found = _load(conn, [webhook_id])
    if not found:
        raise _not_found(webhook_id)
    return found[0]


def webhook_secret(conn: Connection, webhook_id: str) -> tuple[str, str | None]:
    row = conn.execute(
        select(_w.url, _w.secret).where(_w.webhook_id == webhook_id, _w.deleted_timestamp.is_(None))
    ).first()
    if row is None:
        raise _not_found(webhook_id)
    return str(row.url), row.secret


def list_webhooks(
    conn: Connection, max_results: int, page_token: str | None
) -> tuple[list[pb.Webhook], str | None]:
    offset = decode_offset(page_token)
    query = (
        select(_w.webhook_id)
        .where(_w.deleted_timestamp.is_(None))
        .order_by(_w.creation_timestamp.desc(), _w.webhook_id)
        .limit(max_results + 1)
        .offset(offset)
    )
    ids = [row.webhook_id for row in conn.execute(query)]
    token = encode_offset(offset + max_results) if len(ids) > max_results else None
    return _load(conn, ids[:max_results]), token


def subscribed(conn: Connection, entity: str, action: str) -> list[Target]:
    query = (
        select(_w.webhook_id, _w.url, _w.secret)
        .join(r.webhook_events, _e.webhook_id == _w.webhook_id)
        .where(
            _e.entity == entity, _e.action == action, _w.status == "ACTIVE", _w.deleted_timestamp.is_(None)
        )
    )
    return [Target(row.webhook_id, row.url, row.secret) for row in conn.execute(query)]


def record_delivery(
    conn: Connection,
    *,
    delivery_id: str,
    webhook_id: str,
    event: tuple[str, str],
    attempts: int,
    status: int | None,
    error: str | None,
) -> None:
    conn.execute(
        insert(r.webhook_deliveries).values(
            delivery_id=delivery_id,
            webhook_id=webhook_id,
            entity=event[0],
            action=event[1],
            timestamp=now_ms(),
            attempts=attempts,
            response_status=status,
            error_message=(error or "")[:1000] or None,
        )
    )


def _load(conn: Connection, ids: Sequence[str]) -> list[pb.Webhook]:
    if not ids:
        return []
    rows: dict[str, Row[Any]] = {
        row.webhook_id: row
        for row in conn.execute(
            select(r.webhooks).where(_w.webhook_id.in_(list(ids)), _w.deleted_timestamp.is_(None))
        )
    }
    events: dict[str, list[pb.WebhookEvent]] = defaultdict(list)
    for e in conn.execute(
        select(r.webhook_events).where(_e.webhook_id.in_(list(ids))).order_by(_e.entity, _e.action)
    ):
        events[e.webhook_id].append(
            pb.WebhookEvent(
                entity=pb.WebhookEntity.Value(e.entity.upper()),
                action=pb.WebhookAction.Value(e.action.upper()),
            )
        )
    return [_message(rows[i], events[i]) for i in ids if i in rows]


def _message(row: Row[Any], events: list[pb.WebhookEvent]) -> pb.Webhook:
    message = pb.Webhook(
        webhook_id=row.webhook_id,
        name=row.name,
        url=row.url,
        events=events,
        status=pb.WebhookStatus.Value(row.status),
        creation_timestamp=row.creation_timestamp,
        last_updated_timestamp=row.last_updated_timestamp,
    )
    if row.description is not None:
        message.description = row.description
    return message
