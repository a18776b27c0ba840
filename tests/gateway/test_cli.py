"""First contact with the `runstash` command: versions, help for every flag, the access log,
one line for a missing database, and a clean shutdown that leaves no SQLite -wal/-shm behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import httpx
import pytest
from click.testing import CliRunner
from runstash.cli import main
from runstash.config import MLFLOW_API_VERSION, runstash_version

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher

RUNSTASH = str(Path(sys.executable).parent / "runstash")


def test_version_names_runstash_and_the_mlflow_api_level() -> None:
    out = subprocess.run([RUNSTASH, "--version"], capture_output=True, text=True, check=True, timeout=60)
    line = out.stdout.strip()
    assert (
        line == f"runstash {runstash_version()} (serves the MLflow REST API of mlflow {MLFLOW_API_VERSION})"
    )
    assert runstash_version() != MLFLOW_API_VERSION


@pytest.mark.parametrize("command", ["server", "gateway", "metadata", "artifacts"])
def test_every_visible_flag_is_described(command: str) -> None:
    sub = main.commands[command]
    undescribed = [
        param.opts
        for param in sub.params
        if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()
    ]
    assert undescribed == []


def test_server_help_lists_the_mlflow_flags_with_their_meaning() -> None:
    result = CliRunner().invoke(main, ["server", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = result.output
    for flag, words in {
        "--serve-artifacts": "Proxy artifact",
        "--artifacts-only": "only the artifact",
        "--workers": "worker processes",
        "--static-prefix": "URL prefix",
        "--allowed-hosts": "Host header",
        "--cors-allowed-origins": "origins",
        "--disable-security-middleware": "Turn off",
        "--x-frame-options": "X-Frame-Options",
        "--access-log": "method, path, status",
    }.items():
        assert flag in text
        assert words in text, f"{flag}: {words!r} not in the help"


def test_a_bad_boolean_environment_value_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        main, ["server", "--backend-store-uri", "sqlite://"], env={"MLFLOW_SERVE_ARTIFACTS": "maybe"}
    )
    assert result.exit_code == 2
    assert "MLFLOW_SERVE_ARTIFACTS" in result.output and "'maybe'" in result.output


@pytest.mark.parametrize(
    "uri",
    [
        "postgresql://postgres@127.0.0.1:5432/runstash_no_such_database",
        "mysql://root@127.0.0.1:3306/runstash_no_such_database",
    ],
)
def test_a_missing_database_is_one_line_and_a_failed_exit(uri: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            RUNSTASH,
            "server",
            "--backend-store-uri",
            uri,
            "--port",
            "0",
            "--artifacts-destination",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines[-1] == (
        f"runstash: the database 'runstash_no_such_database' named by {uri} does not exist; create it first."
    )
    assert "Traceback" not in out.stderr


def _serve_once(
    server_launcher: ServerLauncher, database_factory: DatabaseFactory, root: Path, extra: list[str]
) -> tuple[str, Path]:
    db = database_factory.create("sqlite")
    server = server_launcher.single(db.uri, str(root), extra_args=extra, label="cli")
    try:
        with httpx.Client(base_url=server.url) as http:
            made = http.post(
                "/api/2.0/mlflow/experiments/create",
                json={"name": "first-contact"},
                headers={"Content-Type": "application/json"},
            )
            assert made.status_code == 200
            assert http.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=nope").status_code == 404
    finally:
        server_launcher.stop(server)
    log = "\n".join(p.log_path.read_text() for p in server.processes)
    return log, Path(db.uri.removeprefix("sqlite:///"))


def test_access_log_on_by_default_and_quiet_with_the_flag(
    server_launcher: ServerLauncher, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    log, _ = _serve_once(server_launcher, database_factory, tmp_path / "a", [])
    assert "runstash.access: POST /api/2.0/mlflow/experiments/create 200 " in log
    assert "runstash.access: GET /api/2.0/mlflow/experiments/get-by-name 404 " in log
    quiet, _ = _serve_once(server_launcher, database_factory, tmp_path / "b", ["--no-access-log"])
    assert "runstash.access" not in quiet


def test_clean_shutdown_closes_the_store(
    server_launcher: ServerLauncher, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    _, path = _serve_once(server_launcher, database_factory, tmp_path / "c", ["--no-access-log"])
    assert path.is_file()
    assert not Path(f"{path}-wal").exists()
    assert not Path(f"{path}-shm").exists()
