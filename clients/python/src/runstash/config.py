"""What the `runstash` command says of itself: runstash's own release and the MLflow REST API
level the server serves (what GET /version answers, since the mlflow client compares it to decide
which calls the server understands)."""

from __future__ import annotations

MLFLOW_API_VERSION = "3.18.0"


def runstash_version() -> str:
    """runstash's own release (of the installed `runstash` package)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runstash")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0+unknown"
