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
import subprocess
import sys
from pathlib import Path

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


if __name__ == "__main__":
    print(plugin_python())
