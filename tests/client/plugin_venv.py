"""The stock mlflow client plus the runstash plugin, in a venv of its own (``.venv-mlflow-plugin``).

The shared ``.venv-mlflow`` must stay the stock client (other suites check that nothing of runstash
leaks into it), so the plugin tests build a sibling venv once: the same requirements as
``scripts/mlflow_client_venv.sh`` plus ``runstash-protos`` and the client package (editable, so
it always runs the worktree's code). uv installs from its warm cache in seconds. A stamp with the
hash of the requirement list makes the build idempotent; a lock file serialises concurrent
builders (pytest-xdist workers, the bench).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.mlflow_client import CLIENT_PRELUDE

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-mlflow-plugin"
STOCK_REQUIREMENTS = (
    "mlflow==3.17.2",
    "scikit-learn",
    "pandas",
    "boto3",
    "psycopg2-binary",
    "pymysql",
    "requests",
)
LOCAL_PACKAGES = ("protos/python", "clients/python")


def plugin_python() -> Path:
    """The venv's python, building the venv first if it is missing or stale."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".runstash-plugin.sha256"
    want = hashlib.sha256("\n".join((*STOCK_REQUIREMENTS, *LOCAL_PACKAGES)).encode()).hexdigest()
    VENV.mkdir(exist_ok=True)
    with open(VENV / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp.exists() and stamp.read_text() == want:
            return python
        uv = ROOT / ".venv" / "bin" / "uv"
        stamp.unlink(missing_ok=True)
        if not python.exists():
            subprocess.run(
                [str(uv), "venv", "-q", "--allow-existing", "--python", sys.executable, str(VENV)], check=True
            )
        editable = [arg for path in LOCAL_PACKAGES for arg in ("-e", str(ROOT / path))]
        subprocess.run(
            [str(uv), "pip", "install", "-q", "--python", str(python), *STOCK_REQUIREMENTS, *editable],
            check=True,
        )
        stamp.write_text(want)
    return python


class PluginClientRunner:
    """Runs scripts with the stock mlflow client + the runstash plugin (``.venv-mlflow-plugin``);
    ``emit(obj)`` and ``error_of(fn, ...)`` are predefined, as in the compatibility suite."""

    def __init__(self, python: Path, workdir: Path) -> None:
        self._python = python
        self._workdir = workdir
        self._count = 0

    def run(
        self, code: str, tracking_uri: str, *, env: Mapping[str, str] | None = None, timeout: float = 300
    ) -> Any:
        self._count += 1
        d = self._workdir / f"plugin-{self._count:03d}"
        d.mkdir(parents=True)
        script = d / "script.py"
        script.write_text(CLIENT_PRELUDE + "\n" + textwrap.dedent(code))
        result_file = d / "result.json"
        full_env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
            and not k.startswith(("MLFLOW_", "RUNSTASH_"))
        }
        full_env.update(
            {
                "MLFLOW_TRACKING_URI": tracking_uri,
                "RUNSTASH_RESULT_FILE": str(result_file),
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "true",
                "GIT_PYTHON_REFRESH": "quiet",
                "PYTHONUNBUFFERED": "1",
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
                **(env or {}),
            }
        )
        proc = subprocess.run(
            [str(self._python), str(script)],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=d,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"plugin client script failed (rc {proc.returncode}, {script}):\n"
                f"--- stderr\n{proc.stderr[-6000:]}\n--- stdout\n{proc.stdout[-2000:]}",
                pytrace=False,
            )
        return json.loads(result_file.read_text()) if result_file.exists() else None


if __name__ == "__main__":
    print(plugin_python())
