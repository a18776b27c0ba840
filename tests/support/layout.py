"""Where the repository and its two virtual environments are."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# runstash itself, the SeaweedFS binary and the test tools (``make install``).
SERVER_VENV = REPO_ROOT / ".venv"
# The stock mlflow client and reference server, never modified by the tests.
CLIENT_VENV = REPO_ROOT / ".venv-mlflow"
