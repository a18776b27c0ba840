"""The built web UI (gateway/ui/dist): index.html at `/`, hashed assets under their own paths."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

NOT_BUILT_PAGE = (
    b"runstash: the web UI is not built (gateway/ui/dist is missing).\n"
    b"Build it with `make -C gateway/ui build`; the REST API under /api/ works regardless.\n"
)

# Vite/webpack style content hashes: name-3f9a1c2b.js, name.3f9a1c2b.css
_HASHED = re.compile(r"[.-][0-9A-Za-z_-]{8,}\.[A-Za-z0-9]+$")


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    cache_control: str


class StaticUI:
    """Serves files from one folder; never outside it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._cache: dict[str, StaticFile] = {}

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    def lookup(self, path: str) -> StaticFile | None:
        """URL path (already percent-decoded) -> file, or None.

        Only content-hashed assets are cached: they never change under their name, while
        index.html must follow a rebuild of the UI without a server restart."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        found = self._load(path)
        if found is not None and found.cache_control.endswith("immutable") and len(self._cache) < 4096:
            self._cache[path] = found
        return found

    def _load(self, path: str) -> StaticFile | None:
        relative = path.lstrip("/") or "index.html"
        if relative.startswith("static-files/"):  # MLflow's asset prefix
            relative = relative[len("static-files/") :]
        if "\x00" in relative or "\\" in relative:
            return None
        try:
            candidate = (self.root / relative).resolve()
            # is_file() raises for names the file system refuses (too long, bad bytes): a 404 too.
            if not candidate.is_relative_to(self.root) or not candidate.is_file():
                return None
            body = candidate.read_bytes()
        except (OSError, RuntimeError, ValueError):
            return None
        content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "image/svg+xml"):
            content_type += "; charset=utf-8"
        if candidate.name == "index.html":
            cache = "no-cache"
        elif _HASHED.search(candidate.name):
            cache = "public, max-age=31536000, immutable"
        else:
            cache = "public, max-age=300"
        return StaticFile(body, content_type, cache)
