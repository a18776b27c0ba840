"""Request checks for the registry RPCs, with MLflow's messages (mlflow-registry.md §2).

Pure functions: they look at the request only. Anything that needs the database (does the model
exist, is the source owned by this server) is the store's or sources.py's job.
"""

from __future__ import annotations

import posixpath
import re

from google.protobuf.message import Message
from runstash_protos.errors import invalid_parameter

from runstash_metadata.validation_common import (
    check_entity_key,
    exceeds_max_length_message,
    invalid_value_message,
    require,
)

STAGES = ("None", "Staging", "Production", "Archived")
ACTIVE_STAGES = ("Staging", "Production")
DELETED_STAGE = "Deleted_Internal"
TAG_VALUE_MAX = 100_000
MODEL_NAME_MAX = 256
ALIAS_MAX = 255
PROMPT_TAG = "mlflow.prompt.is_prompt"
PROMPT_TEXT_TAG = "mlflow.prompt.text"
_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")


def require_fields(request: Message, *names: str) -> None:
    for name in names:
        require(request, name)


def check_model_name(name: str, path: str = "name") -> None:
    if "/" in name or ":" in name:
        raise invalid_parameter(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    if not name.strip():
        raise invalid_parameter(f"Registered model name cannot be empty. Got '{name}'")
    normalized = posixpath.normpath(name)
    if normalized != name or normalized in (".", ".."):
        raise invalid_parameter(
            invalid_value_message(
                path,
                name,
                "Names may be treated as files in certain cases, and must not resolve to other names"
                f" when treated as such. This name would resolve to {normalized!r}",
            )
        )
    if len(name) > MODEL_NAME_MAX:
        raise invalid_parameter(exceeds_max_length_message(path, MODEL_NAME_MAX))


def check_tag(key: str, value: str) -> None:
    check_entity_key(key, "key")
    if len(key) > 250:
        raise invalid_parameter(exceeds_max_length_message("key", 250))
    if len(value) > TAG_VALUE_MAX:
        raise invalid_parameter(exceeds_max_length_message("value", TAG_VALUE_MAX))


def parse_version(text: str, path: str = "version") -> int:
    try:
        return int(text)
    except ValueError:
        raise invalid_parameter(f"Parameter '{path}' must be an integer, got '{text}'.") from None


def check_alias(alias: str) -> None:
    if not alias or len(alias) > ALIAS_MAX or _ALIAS_RE.match(alias) is None:
        raise invalid_parameter(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    if alias.lower() == "latest":
        raise invalid_parameter("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS_RE.match(alias):
        raise invalid_parameter(f"Version alias name '{alias}' is reserved.")


def canonical_stage(stage: str) -> str:
    for known in STAGES:
        if known.lower() == stage.lower():
            return known
    raise invalid_parameter(
        f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}."
    )


def check_max_results(value: int, limit: int) -> None:
    if value <= 0:
        raise invalid_parameter(
            f"Invalid value for max_results. It must be a positive integer, but got {value}"
        )
    if value > limit:
        raise invalid_parameter(f"Invalid value for max_results. It must be at most {limit}, but got {value}")


def is_prompt_tags(tags: list[tuple[str, str]]) -> bool:
    return any(key == PROMPT_TAG and value.lower() == "true" for key, value in tags)
