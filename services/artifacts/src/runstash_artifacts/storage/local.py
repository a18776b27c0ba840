"""Artifacts on local disk, under one directory that nothing can climb out of (symlinks included)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Iterable, Iterator

from runstash_artifacts.paths import INVALID_PATH, ArtifactPath
from runstash_artifacts.storage.base import (
    DEFAULT_CHUNK_SIZE,
    TEMP_PREFIX,
    ArtifactStorage,
    Entry,
    ReadHandle,
    is_a_directory,
    no_such_artifact,
)
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter

_OPEN_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
# O_NONBLOCK so that opening a FIFO someone left in the tree cannot hang a worker.
_OPEN_READ = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK


def _within(path: str, base: str) -> bool:
    return path == base or os.path.commonpath([path, base]) == base


@contextlib.contextmanager
def _os_errors(path: ArtifactPath) -> Iterator[None]:
    """Turn the OS errors a client can cause or should retry into domain errors."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENAMETOOLONG, errno.ELOOP):
            raise invalid_parameter(INVALID_PATH) from error
        if error.errno in (errno.ENOTDIR, errno.EEXIST):
            raise invalid_parameter(
                f"Cannot write artifact '{path}': a parent of it is a file, not a directory"
            ) from error
        if error.errno == errno.EISDIR:
            raise is_a_directory(path) from error
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise RunstashError(ErrorCode.TEMPORARILY_UNAVAILABLE, "Artifact storage is full") from error
        raise


class _LocalReadHandle(ReadHandle):
    def __init__(self, fd: int, size: int) -> None:
        self._file = os.fdopen(fd, "rb", buffering=0)
        self.size = size

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        while chunk := self._file.read(chunk_size):
            yield chunk

    def close(self) -> None:
        self._file.close()


class LocalStorage(ArtifactStorage):
    """Files under ``root``; ``jail`` (default: ``root``) bounds every resolved path as well."""

    kind = "local"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        jail: str | os.PathLike[str] | None = None,
        shown_prefix: ArtifactPath | None = None,
    ) -> None:
        self._root = os.path.abspath(root)
        self._jail = os.path.abspath(jail) if jail is not None else self._root
        if shown_prefix is not None:
            self.shown_prefix = shown_prefix

    @property
    def root(self) -> str:
        return self._root

    def uri(self, path: ArtifactPath | None = None) -> str:
        return os.path.join(self._root, *path.parts) if path else self._root

    def scoped(self, prefix: ArtifactPath) -> LocalStorage:
        return LocalStorage(
            os.path.join(self._root, *prefix.parts), jail=self._jail, shown_prefix=self.shown(prefix)
        )

    def _resolve(self, path: ArtifactPath) -> str:
        """The canonical location of ``path``; 400 if symlinks would take it outside the root."""
        real = os.path.realpath(os.path.join(self._root, *path.parts))
        for base in (self._root, self._jail):
            if not _within(real, os.path.realpath(base)):
                raise invalid_parameter(INVALID_PATH)
        return real

    def write(self, path: ArtifactPath, chunks: Iterable[bytes]) -> int:
        if path.is_root:
            raise invalid_parameter(INVALID_PATH)
        with _os_errors(self.shown(path)):
            target = self._resolve(path)
            parent = os.path.dirname(target)
            os.makedirs(parent, exist_ok=True)
            # makedirs may have followed a symlink created meanwhile: check the result again.
            target = self._resolve(path)
            if os.path.isdir(target):
                raise is_a_directory(self.shown(path))
            temp = os.path.join(parent, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
            fd = os.open(temp, _OPEN_WRITE, 0o666)
            total = 0
            try:
                with os.fdopen(fd, "wb", buffering=0) as out:
                    for chunk in chunks:
                        out.write(chunk)
                        total += len(chunk)
                os.replace(temp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            return total

    def open_read(self, path: ArtifactPath) -> ReadHandle:
        if path.is_root:
            raise is_a_directory(self.shown(path))
        with _os_errors(self.shown(path)):
            target = self._resolve(path)
            try:
                fd = os.open(target, _OPEN_READ)
            except (FileNotFoundError, NotADirectoryError) as error:
                raise no_such_artifact(self.shown(path)) from error
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode):
                os.set_blocking(fd, True)
                return _LocalReadHandle(fd, info.st_size)
            os.close(fd)
            if stat.S_ISDIR(info.st_mode):
                raise is_a_directory(self.shown(path))
            raise no_such_artifact(self.shown(path))

    def list_dir(self, path: ArtifactPath) -> list[Entry]:
        with _os_errors(self.shown(path)):
            target = self._resolve(path)
            real_root = os.path.realpath(self._root)
            entries: list[Entry] = []
            try:
                scan = os.scandir(target)
            except (FileNotFoundError, NotADirectoryError):
                return []
            with scan:
                for item in scan:
                    if item.name.lower().startswith(TEMP_PREFIX):
                        continue
                    if item.is_symlink() and not _within(os.path.realpath(item.path), real_root):
                        continue
                    try:
                        if item.is_dir():
                            entries.append(Entry(item.name, True))
                        elif item.is_file():
                            entries.append(Entry(item.name, False, item.stat().st_size))
                    except FileNotFoundError:  # deleted while we looked
                        continue
            return sorted(entries, key=lambda entry: entry.name)

    def delete(self, path: ArtifactPath) -> None:
        if path.is_root:
            raise invalid_parameter(INVALID_PATH)
        with _os_errors(self.shown(path)):
            # Resolve the parent only: a symlink at ``path`` is removed itself, never followed.
            parent = self._resolve(path.parent)
            target = os.path.join(parent, path.name)
            try:
                info = os.lstat(target)
            except (FileNotFoundError, NotADirectoryError):
                return
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(target)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(target)

    def remove_stale_uploads(self, max_age_s: float, stop: threading.Event | None = None) -> int:
        """Delete upload temporaries untouched for ``max_age_s``; returns how many went.

        A process killed mid-upload (or a power cut) leaves its temporary file behind; nothing
        else ever removes it. Recent ones may belong to an upload still running in another
        replica that shares this folder, so only those older than ``max_age_s`` go. Symlinks are
        not followed. ``stop`` ends a long walk early (service shutdown).
        """
        cutoff = time.time() - max_age_s
        removed = 0
        for folder, dirs, files in os.walk(self._root):
            if stop is not None and stop.is_set():
                break
            dirs[:] = [d for d in dirs if not d.lower().startswith(TEMP_PREFIX)]
            for name in files:
                if not name.lower().startswith(TEMP_PREFIX):
                    continue
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
        return removed


def open_local_destination(root: str) -> LocalStorage:
    """The storage for ``--artifacts-destination <dir>``; the directory is created if missing."""
    os.makedirs(root, exist_ok=True)
    return LocalStorage(root)
