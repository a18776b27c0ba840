"""Copying artifact trees from a source to a target, file by file, streamed (a file is never held
in memory: its read feeds its write chunk by chunk)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from runstash_server.transfer.source import Source
from runstash_server.transfer.target import Target

_PROXY_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"


def proxied_path(uri: str) -> str | None:
    """The path under the artifact proxy of ``mlflow-artifacts:/…`` (or its http form), else None:
    other locations (s3://, a folder) are shared storage the imported record keeps pointing at."""
    parsed = urllib.parse.urlparse(uri or "")
    if parsed.scheme == "mlflow-artifacts":
        return parsed.path.strip("/") or None
    if parsed.scheme in ("http", "https") and _PROXY_ANCHOR in parsed.path:
        return parsed.path.split(_PROXY_ANCHOR, 1)[1].strip("/") or None
    return None


@dataclass
class Copied:
    files: int = 0
    bytes: int = 0


def copy_tree(src: Source, dst: Target, rel: str) -> Copied:
    copied = Copied()
    for path, _size in src.artifact_files(rel):
        counted = _Counting(src.read_artifact(path))
        dst.upload(path, iter(counted))
        copied.files += 1
        copied.bytes += counted.n
    return copied


class _Counting:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.n = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.n += len(chunk)
            yield chunk
