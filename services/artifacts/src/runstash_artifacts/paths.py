"""Artifact path safety: the only way to turn client input into a path the storage accepts.

The gateway percent-decodes the URL path exactly once; this module never decodes again for the
path it hands to storage. It does look at the fully decoded form too, because historical MLflow
traversal bugs (CVE-2023-6831, CVE-2024-1560) came from a second decoding somewhere downstream: a
name that would turn into ``..`` or an absolute path if anyone ever decoded it again is refused.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from runstash_protos.errors import invalid_parameter

INVALID_PATH = "Invalid path"
# Names the storage reserves for itself: a local upload is written next to its target under this
# prefix until it is complete. No request may name such a file (read, overwrite, delete or list a
# half-written upload), so every path component starting with it is refused, in any letter case
# (case-insensitive file systems).
RESERVED_PREFIX = ".runstash-upload-"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORBIDDEN = ("\\", "?", "#")
_DRIVE = re.compile(r"^[A-Za-z]:")
_FILE_URI = re.compile(r"^file:", re.IGNORECASE)
_MAX_DECODE_ROUNDS = 10


@dataclass(frozen=True, slots=True)
class ArtifactPath:
    """A normalised relative POSIX path that cannot leave the root it is joined to.

    ``parts`` holds no empty, ``.`` or ``..`` segment; the empty tuple is the root itself.
    """

    parts: tuple[str, ...]

    @property
    def posix(self) -> str:
        return "/".join(self.parts)

    @property
    def is_root(self) -> bool:
        return not self.parts

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""

    @property
    def parent(self) -> ArtifactPath:
        return ArtifactPath(self.parts[:-1])

    def join(self, other: ArtifactPath) -> ArtifactPath:
        return ArtifactPath(self.parts + other.parts)

    def child(self, name: str) -> ArtifactPath:
        return self.join(parse_artifact_path(name))

    def relative_to(self, base: ArtifactPath) -> ArtifactPath:
        if self.parts[: len(base.parts)] != base.parts:
            raise ValueError(f"{self.posix!r} is not under {base.posix!r}")
        return ArtifactPath(self.parts[len(base.parts) :])

    def __str__(self) -> str:
        return self.posix


ROOT = ArtifactPath(())


def _fully_decoded(raw: str) -> str:
    value = raw
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = urllib.parse.unquote(value)
        if decoded == value:
            return value
        value = decoded
    raise invalid_parameter(INVALID_PATH)


def _check_shape(value: str) -> None:
    if _CONTROL.search(value) or any(ch in value for ch in _FORBIDDEN):
        raise invalid_parameter(INVALID_PATH)
    if value.startswith("/") or _DRIVE.match(value) or _FILE_URI.match(value):
        raise invalid_parameter(INVALID_PATH)
    if ".." in value.split("/"):
        raise invalid_parameter(INVALID_PATH)


def parse_artifact_path(raw: str | None, *, allow_root: bool = True) -> ArtifactPath:
    """Validate ``raw`` (already decoded once) and normalise it; raise 400 "Invalid path" if unsafe.

    Rejected: NUL and other control characters, backslash, ``?``, ``#``, absolute POSIX paths, drive
    paths (``C:``), ``file:`` URIs and any ``..`` segment, in the given form or in any further
    percent-decoded form; a component starting with :data:`RESERVED_PREFIX`. ``a//b/./c``
    normalises to ``a/b/c``.
    """
    if raw is None:
        raw = ""
    _check_shape(raw)
    decoded = _fully_decoded(raw)
    if decoded != raw:
        _check_shape(decoded)
    parts = tuple(part for part in raw.split("/") if part not in ("", "."))
    if any(part.lower().startswith(RESERVED_PREFIX) for part in parts):
        raise invalid_parameter(INVALID_PATH)
    if not parts and not allow_root:
        raise invalid_parameter(INVALID_PATH)
    return ArtifactPath(parts)


def parse_file_path(raw: str | None) -> ArtifactPath:
    """Like :func:`parse_artifact_path` for a path that must name a file (an upload target)."""
    path = parse_artifact_path(raw)
    if raw is not None and raw.endswith("/"):
        raise invalid_parameter("Artifact path must include a filename (cannot end with '/').")
    if path.is_root:
        raise invalid_parameter(INVALID_PATH)
    return path


def multipart_file_name(raw: str | None) -> str:
    """The file name of a multipart upload: the last component after ``/`` or ``\\``.

    Pre-3.18 clients sent full local paths (even Windows ones) in ``path``; only the name counts.
    """
    if not raw:
        raise invalid_parameter(
            "Missing value for required parameter 'path'. "
            "See the API docs for more information about request parameters."
        )
    name = re.split(r"[/\\]", raw)[-1]
    if name in ("", ".", ".."):
        raise invalid_parameter(INVALID_PATH)
    parsed = parse_artifact_path(name, allow_root=False)
    if len(parsed.parts) != 1:
        raise invalid_parameter(INVALID_PATH)
    return parsed.parts[0]
