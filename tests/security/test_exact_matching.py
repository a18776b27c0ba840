"""Regression tests for the probe's findings on Host/Origin matching, the '*' host warning and
over-long static paths, against a real all-in-one server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.security.support import RawResponse, StartedServer, raw_request, start_sqlite_server

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher

REBINDING = b"Invalid Host header - possible DNS rebinding attack detected"
CORS_BLOCKED = b"Cross-origin request blocked"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StartedServer]:
    yield from start_sqlite_server(
        "sec-exact",
        server_launcher,
        database_factory,
        tmp_path_factory,
        extra_args=["--cors-allowed-origins", "https://*.corp.example,http://127.0.0.1:*"],
    )


def _create(server: StartedServer, name: str, headers: dict[str, str]) -> RawResponse:
    body = f'{{"name": "{name}"}}'.encode()
    return raw_request(server.url, "POST", "/api/2.0/mlflow/experiments/create", body=body, headers=headers)


@pytest.mark.parametrize("host", ["127.0.0.1:5077@evil.com", "localhost@evil.com", "127.0.0.1:80:evil.com"])
def test_host_with_junk_after_a_loopback_prefix_is_refused(server: StartedServer, host: str) -> None:
    answer = raw_request(server.url, "GET", "/api/2.0/mlflow/experiments/search", headers={"Host": host})
    assert (answer.status, answer.body) == (403, REBINDING), answer.describe()


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:5077.evil.com", "https://evil.com/.corp.example", "https://corp.example.evil.com"],
)
def test_origins_that_only_look_allowed_may_not_write_or_read(server: StartedServer, origin: str) -> None:
    blocked = _create(server, "from-" + origin.split("//")[1].replace("/", "_"), {**JSON, "Origin": origin})
    assert (blocked.status, blocked.body) == (403, CORS_BLOCKED), blocked.describe()
    read = raw_request(
        server.url, "GET", "/api/2.0/mlflow/experiments/search?max_results=1", headers={"Origin": origin}
    )
    assert read.status == 200
    assert "access-control-allow-origin" not in read.headers


@pytest.mark.parametrize("origin", ["http://127.0.0.1:5077", "https://app.corp.example"])
def test_the_configured_origins_still_work(server: StartedServer, origin: str) -> None:
    allowed = _create(server, "ok-" + origin.split("//")[1].replace(":", "-"), {**JSON, "Origin": origin})
    assert allowed.status == 200, allowed.describe()
    assert allowed.headers.get("access-control-allow-origin") == origin


@pytest.mark.parametrize("length", [300, 4096])
def test_an_overlong_static_path_is_a_404_without_a_traceback(
    server: StartedServer, server_launcher: ServerLauncher, length: int
) -> None:
    answer = raw_request(server.url, "GET", "/" + "a" * length)
    assert answer.status == 404, answer.describe()
    assert answer.content_type.startswith("text/html")
    nested = raw_request(server.url, "GET", "/static-files/" + "b" * length + ".js")
    assert nested.status == 404, nested.describe()
    assert raw_request(server.url, "GET", "/health").status == 200


def test_an_overlong_static_path_leaves_no_traceback_in_the_log(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("long-static")
    running = server_launcher.single(database_factory.create("sqlite").uri, str(root), label="long-static")
    try:
        assert raw_request(running.url, "GET", "/" + "c" * 300).status == 404
    finally:
        server_launcher.stop(running)
    log = "\n".join(p.log_path.read_text() for p in running.processes)
    assert "Traceback" not in log
    assert "File name too long" not in log


def test_allowed_hosts_star_prints_a_loud_warning(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("star-hosts")
    running = server_launcher.single(
        database_factory.create("sqlite").uri,
        str(root),
        extra_args=["--allowed-hosts", "*"],
        label="star-hosts",
    )
    try:
        anywhere = raw_request(running.url, "GET", "/health", headers={"Host": "rebound.example"})
        assert anywhere.status == 200  # what '*' asks for; the warning says what it costs
    finally:
        server_launcher.stop(running)
    log = "\n".join(p.log_path.read_text() for p in running.processes)
    assert "WARNING" in log and "SECURITY WARNING: --allowed-hosts '*'" in log and "DNS rebinding" in log
