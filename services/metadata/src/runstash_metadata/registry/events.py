"""Registry events (mlflow-registry.md §10.2) as the servicer announces them after a commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from runstash_protos import registry_pb2 as pb

from runstash_metadata.registry.validation import PROMPT_TAG, PROMPT_TEXT_TAG

# Prompt tags the payloads leave out (they are the prompt machinery, not user tags).
_INTERNAL_PROMPT_TAGS = (PROMPT_TAG, PROMPT_TEXT_TAG, "_mlflow_prompt_type")


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    entity: str  # lower-case MLflow names: model_version, prompt_alias, ...
    action: str  # created, set, deleted
    data: dict[str, Any]


class EventSink(Protocol):
    def publish(self, event: RegistryEvent) -> None: ...


class NoEvents:
    def publish(self, event: RegistryEvent) -> None:
        pass


def model_created(model: pb.RegisteredModel, prompt: bool) -> RegistryEvent:
    tags = {t.key: t.value for t in model.tags}
    if prompt:
        tags = {k: v for k, v in tags.items() if k not in _INTERNAL_PROMPT_TAGS}
        return RegistryEvent(
            "prompt", "created", {"name": model.name, "tags": tags, "description": model.description or None}
        )
    return RegistryEvent(
        "registered_model",
        "created",
        {"name": model.name, "tags": tags, "description": model.description or None},
    )


def version_created(version: pb.ModelVersion, prompt: bool) -> RegistryEvent:
    tags = {t.key: t.value for t in version.tags}
    if prompt:
        return RegistryEvent(
            "prompt_version",
            "created",
            {
                "name": version.name,
                "version": version.version,
                "template": tags.get(PROMPT_TEXT_TAG, ""),
                "tags": {k: v for k, v in tags.items() if k not in _INTERNAL_PROMPT_TAGS},
                "description": version.description or None,
            },
        )
    return RegistryEvent(
        "model_version",
        "created",
        {
            "name": version.name,
            "version": version.version,
            "source": version.source,
            "run_id": version.run_id or None,
            "tags": tags,
            "description": version.description or None,
        },
    )


def tag_event(prompt: bool, *, on_version: bool, action: str, data: dict[str, Any]) -> RegistryEvent | None:
    if on_version:
        return RegistryEvent("prompt_version_tag" if prompt else "model_version_tag", action, data)
    return RegistryEvent("prompt_tag", action, data) if prompt else None


def alias_event(prompt: bool, action: str, data: dict[str, Any]) -> RegistryEvent:
    return RegistryEvent("prompt_alias" if prompt else "model_version_alias", action, data)
