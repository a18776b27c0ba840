"""A model version's ``source`` is checked, never trusted (security.md §B, mlflow-registry.md §6).

The value checked is the value stored: no decoding or rewriting happens between the check and the
insert except the documented ``models:/<name>/<stage|alias>`` -> ``models:/<name>/<version>``
resolution, whose result is itself a URI this server owns. Accepted shapes:

* ``runs:/<run_id>/<path>`` of a run in this database, with the request's ``run_id`` equal to it;
* ``models:/<model_id>`` of a logged model in this database (``model_id`` equal or absent);
* ``models:/<name>/<version|stage|latest>`` or ``models:/<name>@<alias>`` (a copy);
* ``mlflow-artifacts:/...`` under the artifact root of the request's run or logged model;
* any other URI or path only when it lies inside a trusted artifact root (the server's own roots,
  or the request's run / logged model root).

Refused everywhere: NUL and control characters, ``\\``, ``#`` and ``?``, ``..`` segments after any
number of percent-decodings, network-path references (``//host/...``) and host-addressed
``mlflow-artifacts://host/...``. The server never opens a source: it only stores it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from runstash_protos.errors import RunstashError, invalid_parameter
from sqlalchemy import Connection, select

from runstash_metadata.registry.models import alias_version, require_model
from runstash_metadata.registry.rows import latest_version_keys
from runstash_metadata.registry.validation import PROMPT_TAG, STAGES, canonical_stage, parse_version
from runstash_metadata.registry.versions import source_of, version_not_found
from runstash_metadata.store import schema as s
from runstash_metadata.store import schema_registry as r

PROMPT_SOURCES = ("dummy-source", "prompt-template")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_DECODINGS = 8


@dataclass(frozen=True, slots=True)
class CheckedSource:
    source: str  # stored as the version's source
    storage_location: str  # what get-download-uri answers
    run_id: str | None
    model_id: str | None


def _refused(source: str) -> RunstashError:
    return invalid_parameter(
        f"Invalid model version source: '{source}'. The run_id request parameter must identify "
        "the resource that contains the source."
    )


def _refused_model(source: str) -> RunstashError:
    return invalid_parameter(
        f"Invalid model version source: '{source}'. The model_id request parameter must identify "
        "the resource that contains the source."
    )


def _relative(source: str) -> RunstashError:
    return invalid_parameter(
        f"Invalid model version source: '{source}'. If supplying a source as an http, https, local "
        "file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided "
        "without relative path references present. Please provide an absolute path."
    )


def check_shape(source: str) -> None:
    """The checks that need no database: refuse every encoding trick before parsing."""
    if _CONTROL.search(source) or "\\" in source or "#" in source or "?" in source:
        raise _relative(source)
    decoded = source
    for _ in range(_MAX_DECODINGS):
        if "\\" in decoded or _CONTROL.search(decoded) or "#" in decoded or "?" in decoded:
            raise _relative(source)
        if ".." in decoded.split("/"):
            raise _relative(source)
        again = unquote(decoded)
        if again == decoded:
            break
        decoded = again
    else:
        raise _relative(source)  # still decoding after many rounds: nobody means that
    if source.startswith("//") or (source.startswith("mlflow-artifacts:") and urlsplit(source).netloc):
        raise _refused(source)


def check_prompt_source(source: str) -> None:
    if source not in PROMPT_SOURCES:
        raise invalid_parameter(
            f"Invalid prompt source: '{source}'. Prompt sources must use an MLflow placeholder."
        )


def check_source(
    conn: Connection,
    source: str,
    run_id: str | None,
    model_id: str | None,
    trusted_roots: Sequence[str],
) -> CheckedSource:
    check_shape(source)
    scheme = urlsplit(source).scheme.lower()
    if scheme == "models":
        return _models_source(conn, source, run_id, model_id)
    if scheme == "runs":
        return _runs_source(conn, source, run_id, model_id)
    roots = list(trusted_roots)
    if model_id:
        roots = [_logged_model_root(conn, source, model_id)]
    elif run_id:
        roots.append(_run_root(conn, source, run_id))
    if scheme == "mlflow-artifacts":
        roots = [root for root in roots if root.startswith("mlflow-artifacts:")]
    if not any(_inside(source, root) for root in roots):
        raise _refused_model(source) if model_id else _refused(source)
    return CheckedSource(source, source, run_id or _model_run_id(conn, model_id), model_id)


def _inside(source: str, root: str) -> bool:
    """True iff ``source`` names ``root`` or something under it (same scheme and authority)."""
    if not root:
        return False
    src, base = _comparable(source), _comparable(root)
    return src == base or src.startswith(base.rstrip("/") + "/")


def _comparable(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme in ("", "file") or len(parts.scheme) == 1:  # a path (or a drive letter)
        path = parts.path if parts.scheme == "file" else uri
        return "file://" + posixpath.normpath(path if path.startswith("/") else "/" + path)
    path = posixpath.normpath(parts.path) if parts.path else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{'' if path == '.' else path}"


def _runs_source(conn: Connection, source: str, run_id: str | None, model_id: str | None) -> CheckedSource:
    parts = urlsplit(source)
    owner = parts.path.lstrip("/").split("/", 1)[0] if not parts.netloc else parts.netloc
    if parts.netloc or model_id or not run_id or owner != run_id:
        raise _refused(source)
    _run_root(conn, source, run_id)
    return CheckedSource(source, source, run_id, None)


def _run_root(conn: Connection, source: str, run_id: str) -> str:
    root = conn.execute(select(s.runs.c.artifact_uri).where(s.runs.c.run_uuid == run_id)).scalar()
    if root is None:
        raise _refused(source)
    return str(root)


def _logged_model_root(conn: Connection, source: str, model_id: str) -> str:
    root = conn.execute(
        select(s.logged_models.c.artifact_location).where(s.logged_models.c.model_id == model_id)
    ).scalar()
    if root is None:
        raise _refused_model(source)
    return str(root)


def _model_run_id(conn: Connection, model_id: str | None) -> str | None:
    if not model_id:
        return None
    value = conn.execute(
        select(s.logged_models.c.source_run_id).where(s.logged_models.c.model_id == model_id)
    ).scalar()
    return None if value is None else str(value)


def _models_source(conn: Connection, source: str, run_id: str | None, model_id: str | None) -> CheckedSource:
    parts = urlsplit(source)
    body = parts.path.lstrip("/") if not parts.netloc else ""
    if parts.netloc or not body:
        raise _refused(source)
    if "/" not in body and "@" not in body:
        # models:/<model_id>: a logged model of this server
        if model_id and model_id != body:
            raise _refused_model(source)
        if not model_id:
            raise _refused(source)
        location = _logged_model_root(conn, source, body)
        owner_run = _model_run_id(conn, body)
        if run_id and owner_run and run_id != owner_run:
            raise _refused_model(source)
        return CheckedSource(source, location, run_id or owner_run, body)
    name, version = _resolve_copy(conn, source, body)
    location, source_run, source_model = source_of(conn, name, version)
    if (run_id and run_id != (source_run or "")) or (model_id and model_id != (source_model or "")):
        raise invalid_parameter(
            f"Invalid model version source: '{source}'. The run_id and model_id request parameters "
            "must match the referenced model version."
        )
    return CheckedSource(
        f"models:/{name}/{version}", location, run_id or source_run, model_id or source_model
    )


def _resolve_copy(conn: Connection, source: str, body: str) -> tuple[str, int]:
    """``name/version``, ``name/<stage>``, ``name/latest`` or ``name@alias`` -> (name, version)."""
    if "@" in body and "/" not in body:
        name, alias = body.split("@", 1)
        _check_not_prompt(conn, source, name)
        return name, alias_version(conn, name, alias)
    name, _, suffix = body.partition("/")
    if not name or not suffix or "/" in suffix:
        raise _refused(source)
    _check_not_prompt(conn, source, name)
    if suffix.isdigit():
        return name, parse_version(suffix)
    stages: list[str] = []
    if suffix.lower() != "latest":
        if suffix.lower() not in (stage.lower() for stage in STAGES):
            raise _refused(source)
        stages = [canonical_stage(suffix)]
    keys = latest_version_keys(conn, [name], stages).get(name, [])
    if not keys:
        raise version_not_found(name, suffix)
    return name, max(version for _, version in keys)


def _check_not_prompt(conn: Connection, source: str, name: str) -> None:
    require_model(conn, name)
    value = conn.execute(
        select(r.registered_model_tags.c.value).where(
            r.registered_model_tags.c.name == name, r.registered_model_tags.c.key == PROMPT_TAG
        )
    ).scalar()
    if value is not None and value.lower() == "true":
        raise invalid_parameter(
            f"Invalid model version source: '{source}'. Prompt versions cannot be used as model "
            "version sources."
        )
