"""Where a database source's artifacts are read from: the MLflow server's artifact proxy (its
URL), its artifacts destination directory (``mlflow-artifacts:/<path>`` is ``<dir>/<path>``), or
nowhere (artifacts are then not copied)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from runstash_server.transfer.rest import CHUNK, Rest
from runstash_server.transfer.source import RestSource


class ArtifactReader(Protocol):
    def files(self, rel: str) -> Iterator[tuple[str, int]]: ...
    def read(self, path: str) -> Iterator[bytes]: ...
    def close(self) -> None: ...


class _Proxy:
    def __init__(self, url: str) -> None:
        self._source = RestSource(Rest(url))

    def files(self, rel: str) -> Iterator[tuple[str, int]]:
        return self._source.artifact_files(rel)

    def read(self, path: str) -> Iterator[bytes]:
        return self._source.read_artifact(path)

    def close(self) -> None:
        self._source.close()


class _Folder:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"artifact path {rel!r} leaves {self.root}")
        return path

    def files(self, rel: str) -> Iterator[tuple[str, int]]:
        base = self._path(rel)
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    yield f"{rel}/{path.relative_to(base).as_posix()}", path.stat().st_size

    def read(self, path: str) -> Iterator[bytes]:
        with self._path(path).open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def close(self) -> None:
        pass


class _Nowhere:
    def files(self, rel: str) -> Iterator[tuple[str, int]]:
        return iter(())

    def read(self, path: str) -> Iterator[bytes]:
        raise FileNotFoundError(path)

    def close(self) -> None:
        pass


def artifact_reader(spec: str | None) -> ArtifactReader:
    if not spec:
        return _Nowhere()
    if spec.startswith(("http://", "https://")):
        return _Proxy(spec)
    root = Path(spec)
    if not root.is_dir():
        raise ValueError(f"--source-artifacts {spec!r}: neither an http(s) URL nor a directory")
    return _Folder(root)
