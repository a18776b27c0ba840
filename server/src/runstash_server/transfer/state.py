"""The import's state file: one line per finished unit ("run <id>"), appended and flushed as each
finishes, so a crashed import skips what was done and redoes at most the unit it was in."""

from __future__ import annotations

import os
from pathlib import Path


class State:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._done: set[str] = set()
        if path.exists():
            self._done = {line.strip() for line in path.read_text().splitlines() if line.strip()}
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def done(self, kind: str, key: str) -> bool:
        return f"{kind} {key}" in self._done

    def mark(self, kind: str, key: str) -> None:
        entry = f"{kind} {key}"
        self._done.add(entry)
        self._file.write(entry + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
