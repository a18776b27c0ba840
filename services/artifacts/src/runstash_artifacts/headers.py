"""HTTP headers of a downloaded artifact: always an attachment, never sniffed (no XSS via artifacts)."""

from __future__ import annotations

import mimetypes
import unicodedata
import urllib.parse

# MLflow serves these as text/plain: the extension, or the whole name when there is none. The
# match is case-sensitive, as in mlflow 3.17.2: "MLmodel" and "mlproject" are text, while a
# file named "MLproject" is application/octet-stream there (checked against the real server).
_TEXT_EXTENSIONS = frozenset(
    {
        *("txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon"),
        *("toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst"),
        *("ipynb", "MLmodel", "mlproject"),
    }
)
# RFC 9110 token characters: a file name made only of these is sent bare, as MLflow (werkzeug)
# does (``filename=plot.png``); any other is quoted (``filename="my plot.png"``).
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Built-in table only: the machine's /etc/mime.types must not change what clients see.
_MIME = mimetypes.MimeTypes()


def guess_content_type(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        extension = name
    if extension in _TEXT_EXTENSIONS:
        return "text/plain"
    guessed, _ = _MIME.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _quoted(value: str) -> str:
    """``value`` bare if it is a token, else as a quoted string (the form MLflow sends)."""
    if value and _TOKEN.issuperset(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_disposition(name: str) -> str:
    """``attachment; filename=<name>``, with an RFC 5987 ``filename*`` for non-ASCII names (the
    plain ``filename`` then carries the name with accents stripped, ``download`` if nothing is
    left)."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii") or "download"
        encoded = urllib.parse.quote(name, safe="!#$&+-.^_`|~")
        return f"attachment; filename={_quoted(fallback)}; filename*=UTF-8''{encoded}"
    return f"attachment; filename={_quoted(name)}"


def download_headers(name: str, size: int) -> dict[str, str]:
    return {
        "Content-Type": guess_content_type(name),
        "Content-Disposition": content_disposition(name),
        "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff",
    }
