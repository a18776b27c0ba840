"""What `mlflow server` does that no protobuf rule says, in one place.

Flask's HTML 404/405 pages (the mlflow client reads a non-JSON 404 as ENDPOINT_NOT_FOUND), the
fixed endpoints (/health, /version, server-info), the 503 answers of ``--no-serve-artifacts`` and
``--artifacts-only``, the JSON bodies MLflow tolerates (``null``, double-encoded strings, NaN
literals), its Content-Type rule, and the answers of artifact downloads and uploads.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from runstash_protos.errors import invalid_parameter

from .config import GatewayConfig

NOT_FOUND_HTML = (
    b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    b"<p>The requested URL was not found on the server. If you entered the URL manually please check "
    b"your spelling and try again.</p>\n"
)
METHOD_NOT_ALLOWED_HTML = (
    b"<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    b"<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
)

# Paths of the artifact proxy (disabled by --no-serve-artifacts, served unprefixed too).
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")
SERVER_INFO_PATHS = ("/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info")
RUNSTASH_VERSION_PATH = "/api/runstash/version"
# The header that names runstash's own release on /version (whose body is the MLflow API level).
RUNSTASH_VERSION_HEADER = b"x-runstash-version"


def merge_slashes(path: str) -> str:
    """``//model-versions/get-artifact`` -> ``/model-versions/get-artifact``: Flask routes repeated
    slashes in a rule's fixed part as one (MLflow's own tests call ``//model-versions/...``).
    Only the leading run is merged: inside an artifact path a ``//`` stays what it is (an
    absolute path, refused by the service), as in Flask's ``<path:...>`` variables."""
    return "/" + path.lstrip("/") if path.startswith("//") else path


def server_info_json(config: GatewayConfig) -> dict[str, Any]:
    return {
        "store_type": config.store_type,
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": config.multipart_uploads_enabled,
        "multipart_downloads_enabled": config.multipart_downloads_enabled,
        "artifact_serving_enabled": config.serve_artifacts,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "model_artifact_presigned_downloads_supported": False,
        "features_enabled": {"gateway": False, "scheduled_issue_detection": False},
        "tracking_auth": "",
        "artifacts_presigned_only": config.artifacts_presigned_only,
    }


def runstash_version_json(config: GatewayConfig) -> bytes:
    return orjson.dumps(
        {"runstash_version": config.runstash_version, "mlflow_api_version": config.server_version}
    )


def disabled_by_mode(path: str, config: GatewayConfig) -> bytes | None:
    """The 503 text of a route switched off by the server's mode, or None."""
    if path.startswith(ARTIFACT_PREFIXES):
        if config.serve_artifacts:
            return None
        message = (
            f"Endpoint: {path} disabled due to the mlflow server running with `--no-serve-artifacts`. "
            "To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`"
        )
    elif config.artifacts_only and path.startswith(("/api/", "/ajax-api/", "/get-artifact")):
        message = (
            f"Endpoint: {path} disabled due to the mlflow server running in `--artifacts-only` mode. "
            "To enable tracking server functionality, run `mlflow server` without `--artifacts-only`"
        )
    else:
        return None
    return message.encode()


def decode_json(body: bytes) -> dict[str, Any]:
    """A request body as MLflow reads it: empty or ``null`` is ``{}``, a JSON string holding JSON
    (legacy clients double-encode) is decoded again, NaN/Infinity and huge integers are accepted."""
    if not body or body.isspace():
        return {}
    try:
        value: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = _lenient_loads(body)
    if type(value) is str:
        value = _lenient_loads(value)
    if value is None:
        return {}
    if type(value) is not dict:
        raise invalid_parameter(f"Invalid request body: expected a JSON object, got {type(value).__name__}.")
    return value


def _lenient_loads(text: bytes | str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise invalid_parameter(f"Malformed JSON in request body: {exc}") from None


def check_content_type(content_type: bytes | None) -> None:
    """POST/PUT with a JSON body must say so (MLflow refuses anything else)."""
    if content_type is None:
        raise invalid_parameter("Bad Request. Content-Type header is missing.")
    media = content_type.split(b";", 1)[0].strip().lower()
    if media != b"application/json":
        raise invalid_parameter("Bad Request. Content-Type must be one of ['application/json'].")
