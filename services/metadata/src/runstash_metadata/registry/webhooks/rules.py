"""Webhook request checks with MLflow's messages (mlflow-registry.md §10.2)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from runstash_protos import registry_pb2 as pb
from runstash_protos.errors import invalid_parameter

from runstash_metadata.registry.webhooks.addresses import refused_address, resolve

SCHEMES_ENV = "MLFLOW_WEBHOOK_ALLOWED_SCHEMES"
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
VALID_ACTIONS: dict[str, tuple[str, ...]] = {
    "registered_model": ("created",),
    "model_version": ("created",),
    "model_version_tag": ("set", "deleted"),
    "model_version_alias": ("created", "deleted"),
    "prompt": ("created",),
    "prompt_version": ("created",),
    "prompt_tag": ("set", "deleted"),
    "prompt_version_tag": ("set", "deleted"),
    "prompt_alias": ("created", "deleted"),
    "budget_policy": ("exceeded",),
}


def check_name(name: str) -> None:
    if len(name) > 63 or _NAME_RE.match(name) is None:
        raise invalid_parameter(
            f"Webhook name '{name}' is invalid. It must start and end with a letter or digit, be less "
            "than 63 characters long, and contain only letters, digits, dots (.), underscores (_), and "
            "hyphens (-)."
        )


def allowed_schemes() -> list[str]:
    raw = os.environ.get(SCHEMES_ENV, "https")
    return [s.strip().lower() for s in raw.split(",") if s.strip()]


def check_url(url: str) -> None:
    parts = urlsplit(url)
    schemes = allowed_schemes()
    if parts.scheme.lower() not in schemes:
        raise invalid_parameter(
            f"Invalid webhook URL scheme: '{parts.scheme}'. Allowed schemes are: {', '.join(schemes)}."
        )
    if not parts.hostname:
        raise invalid_parameter(f"Invalid webhook URL: '{url}'. The URL must include a hostname.")
    try:
        addresses = resolve(parts.hostname, parts.port or 443)
    except OSError as exc:
        raise invalid_parameter(f"Cannot resolve Webhook URL hostname '{parts.hostname}': {exc}") from None
    refused = refused_address(addresses)
    if refused is not None:
        raise invalid_parameter(
            "Webhook URL must not resolve to a non-public IP address. "
            f"'{parts.hostname}' resolves to {refused}."
        )


def event_names(events: Iterable[pb.WebhookEvent]) -> list[tuple[str, str]]:
    """(entity, action) pairs in MLflow's lower-case names; invalid pairs refused."""
    pairs: list[tuple[str, str]] = []
    for event in events:
        entity = pb.WebhookEntity.Name(event.entity).lower()
        action = pb.WebhookAction.Name(event.action).lower()
        valid = VALID_ACTIONS.get(entity)
        if valid is None:
            raise invalid_parameter(f"Invalid webhook event entity: '{entity}'.")
        if action not in valid:
            raise invalid_parameter(
                f"Invalid action '{action}' for entity '{entity}'. Valid actions are: {list(valid)}"
            )
        pairs.append((entity, action))
    return list(dict.fromkeys(pairs))
