"""Plugin: scripts run with the stock mlflow client (.venv-mlflow) against a tracking server.

A script reports back with ``emit(obj)`` (JSON); ``error_of(fn, ...)`` returns the error code and
message of the ``MlflowException`` a call raised.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.layout import CLIENT_VENV


def client_python() -> Path:
    py = CLIENT_VENV / "bin" / "python"
    if not py.exists():
        raise RuntimeError(f"{py} missing: run `make client-venv` (scripts/mlflow_client_venv.sh)")
    return py


CLIENT_PRELUDE = '''
import json as _json, os as _os, math as _math

def emit(obj):
    """Reports `obj` (JSON-serialisable; NaN/inf become strings) back to the test."""
    def _clean(v):
        if isinstance(v, float) and (_math.isnan(v) or _math.isinf(v)):
            return repr(v)
        if isinstance(v, dict):
            return {str(k): _clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [_clean(x) for x in v]
        return v
    with open(_os.environ["RUNSTASH_RESULT_FILE"], "w") as _f:
        _json.dump(_clean(obj), _f)

def error_of(fn, *args, **kwargs):
    """Calls fn; returns {"error_code", "message"} of the MlflowException it raised, or None."""
    from mlflow.exceptions import MlflowException
    try:
        fn(*args, **kwargs)
    except MlflowException as e:
        return {"error_code": e.error_code, "message": str(e)}
    return None
'''


@dataclasses.dataclass(frozen=True)
class ClientResult:
    value: Any
    seconds: float
    stdout: str
    stderr: str


class MlflowClientRunner:
    """Runs scripts with the stock mlflow client (.venv-mlflow) against a tracking server."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._count = 0

    def run(
        self,
        code: str,
        tracking_uri: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> Any:
        """Runs `code` (dedented; `emit(obj)` and `error_of(fn, ...)` are predefined) and returns
        what it emitted. Fails the test with the script's output if it exits non-zero."""
        return self.run_full(code, tracking_uri, env=env, timeout=timeout).value

    def run_full(
        self,
        code: str,
        tracking_uri: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> ClientResult:
        self._count += 1
        d = self._workdir / f"client-{self._count:03d}"
        d.mkdir(parents=True)
        script = d / "script.py"
        script.write_text(CLIENT_PRELUDE + "\n" + textwrap.dedent(code))
        result_file = d / "result.json"
        full_env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("MLFLOW_")
        }
        full_env.update(
            {
                "MLFLOW_TRACKING_URI": tracking_uri,
                "RUNSTASH_RESULT_FILE": str(result_file),
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "true",
                "GIT_PYTHON_REFRESH": "quiet",
                "PYTHONUNBUFFERED": "1",
                # A server 5xx must surface quickly instead of after minutes of client retries.
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
            }
        )
        full_env.update(env or {})
        start = time.monotonic()
        try:
            proc = subprocess.run(
                [str(client_python()), str(script)],
                capture_output=True,
                text=True,
                env=full_env,
                cwd=d,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"mlflow client script timed out after {timeout} s\n{_decode(exc.stderr)[-4000:]}")
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            pytest.fail(
                f"mlflow client script failed (rc {proc.returncode}, {script}):\n"
                f"--- stderr\n{proc.stderr[-6000:]}\n--- stdout\n{proc.stdout[-2000:]}",
                pytrace=False,
            )
        value = json.loads(result_file.read_text()) if result_file.exists() else None
        return ClientResult(value, seconds, proc.stdout, proc.stderr)


def _decode(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


@pytest.fixture(scope="session")
def mlflow_client(tmp_path_factory: pytest.TempPathFactory) -> MlflowClientRunner:
    client_python()
    return MlflowClientRunner(tmp_path_factory.mktemp("mlflow-client"))
