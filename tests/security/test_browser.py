"""Browser-side attack shapes (security.md #7 and #11): DNS rebinding, CORS/CSRF, clickjacking,
reflection and stored XSS through artifacts, params and tags.

Two servers: one with the defaults (loopback/private Host names, localhost origins, SAMEORIGIN) and
one configured with ``--allowed-hosts``, ``--cors-allowed-origins`` and ``--x-frame-options DENY``.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.security.support import (
    RawResponse,
    StartedServer,
    assert_mlflow_error,
    checked_json,
    create_experiment,
    create_run,
    post_json,
    raw_request,
    start_prefixed_server,
    start_sqlite_server,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher

REBINDING = b"Invalid Host header - possible DNS rebinding attack detected"
CORS_BLOCKED = b"Cross-origin request blocked"
SCRIPT = "<script>alert(document.domain)</script>"
PREFIX = "/rs"  # the configured server runs with --static-prefix


@pytest.fixture(scope="module")
def default_server(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StartedServer]:
    yield from start_sqlite_server("sec-browser", server_launcher, database_factory, tmp_path_factory)


@pytest.fixture(scope="module")
def configured_server(
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StartedServer]:
    # Not through server_launcher: it polls an unprefixed /health, which a prefixed server lacks.
    yield from start_prefixed_server(
        "sec-browser-configured",
        PREFIX,
        database_factory=database_factory,
        tmp_path_factory=tmp_path_factory,
        extra_args=[
            "--allowed-hosts",
            "tracking.example.com,*.corp.example",
            "--cors-allowed-origins",
            "https://ui.example.com",
            "--x-frame-options",
            "DENY",
        ],
    )


def _experiment_exists(url: str, name: str) -> bool:

    response = raw_request(
        url, "GET", f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={urllib.parse.quote(name)}"
    )
    return response.status == 200


def _assert_rebinding_refused(response: RawResponse) -> None:
    assert response.status == 403, response.describe()
    assert response.content_type.startswith("text/plain"), response.describe()
    assert response.body == REBINDING


# ---------------------------------------------------------------------------------------------
# Host header (DNS rebinding)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:80",
        "EVIL.EXAMPLE",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "evil.example#@127.0.0.1",
        "169.254.169.254.evil.example",
        "8.8.8.8",
    ],
)
def test_foreign_host_header_is_refused_before_anything_runs(
    default_server: StartedServer, host: str
) -> None:
    url = default_server.url
    name = f"rebinding-{secrets.token_hex(4)}"
    for method, target, body in (
        ("GET", "/health", None),
        ("GET", "/api/2.0/mlflow/experiments/search?max_results=10", None),
        ("POST", "/api/2.0/mlflow/experiments/create", json.dumps({"name": name}).encode()),
        ("GET", "/", None),
    ):
        headers = {"Host": host, "Content-Type": "application/json"}
        _assert_rebinding_refused(raw_request(url, method, target, body=body, headers=headers))
    assert not _experiment_exists(url, name), "a refused request changed state"


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1:1234", "[::1]:5000", "10.1.2.3"])
def test_loopback_and_private_hosts_are_allowed_by_default(default_server: StartedServer, host: str) -> None:
    response = raw_request(default_server.url, "GET", "/health", headers={"Host": host})
    assert response.status == 200 and response.body == b"OK", response.describe()


def test_allowed_hosts_flag_admits_exactly_the_configured_names(configured_server: StartedServer) -> None:
    url = configured_server.url
    for host in (
        "tracking.example.com",
        "tracking.example.com:8443",
        "TRACKING.example.com",
        "a.corp.example",
    ):
        response = raw_request(
            url, "GET", PREFIX + "/api/2.0/mlflow/experiments/search?max_results=1", headers={"Host": host}
        )
        assert response.status == 200, f"{host}: {response.describe()}"
    for host in (
        "evil.example",
        "tracking.example.com.evil.example",
        "corp.example.evil",
        "xtracking.example.com",
    ):
        _assert_rebinding_refused(raw_request(url, "GET", PREFIX + "/health", headers={"Host": host}))
    # Loopback stays allowed next to the configured names.
    assert raw_request(url, "GET", PREFIX + "/health", headers={"Host": "127.0.0.1"}).status == 200


# ---------------------------------------------------------------------------------------------
# Origin (CORS / CSRF)


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "https://localhost.evil.example", "file://"]
)
@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/api/2.0/mlflow/experiments/create"),
        ("POST", "/ajax-api/2.0/mlflow/experiments/create"),
        ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/0/x.txt"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/x.txt"),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-0"),
        ("POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=r&path=x.txt"),
    ],
)
def test_cross_site_state_change_is_blocked(
    default_server: StartedServer, origin: str, method: str, target: str
) -> None:
    name = f"csrf-{secrets.token_hex(4)}"
    body = json.dumps({"name": name}).encode()
    # text/plain is what a cross-site <form> may send without a preflight.
    for content_type in ("application/json", "text/plain"):
        response = raw_request(
            default_server.url,
            method,
            target,
            body=body,
            headers={"Origin": origin, "Content-Type": content_type},
        )
        assert response.status == 403, response.describe()
        assert response.body == CORS_BLOCKED
        assert "access-control-allow-origin" not in response.headers
    assert not _experiment_exists(default_server.url, name)
    assert not (default_server.artifacts / "0" / "x.txt").exists()


def test_cross_site_get_gets_no_cors_grant(default_server: StartedServer) -> None:
    response = raw_request(
        default_server.url,
        "GET",
        "/api/2.0/mlflow/experiments/search?max_results=10",
        headers={"Origin": "http://evil.example"},
    )
    assert response.status == 200
    assert "access-control-allow-origin" not in response.headers  # the page cannot read the body


def test_preflight_from_an_allowed_origin(
    default_server: StartedServer, configured_server: StartedServer
) -> None:
    for server, origin in (
        (default_server, "http://localhost:3000"),
        (configured_server, "https://ui.example.com"),
    ):
        response = raw_request(
            server.url,
            "OPTIONS",
            server.prefix + "/api/2.0/mlflow/runs/log-batch",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert response.status == 200, response.describe()
        assert response.headers.get("access-control-allow-origin") == origin
        methods = {m.strip() for m in response.headers.get("access-control-allow-methods", "").split(",")}
        assert {"GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"} <= methods
        assert "content-type" in response.headers.get("access-control-allow-headers", "").lower()
        # ...and the real request from that origin goes through with the grant.
        created = post_json(
            server.url,
            server.prefix + "/api/2.0/mlflow/experiments/create",
            {"name": f"cors-{secrets.token_hex(4)}"},
            headers={"Origin": origin},
        )
        assert created.status == 200, created.describe()
        assert created.headers.get("access-control-allow-origin") == origin


def test_preflight_from_a_foreign_origin_gets_no_grant(
    default_server: StartedServer, configured_server: StartedServer
) -> None:
    # The configured server no longer allows the localhost default.
    for server, origin in (
        (default_server, "http://evil.example"),
        (configured_server, "http://localhost:3000"),
    ):
        response = raw_request(
            server.url,
            "OPTIONS",
            server.prefix + "/api/2.0/mlflow/experiments/create",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert response.status in (403, 404, 405), response.describe()
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-methods" not in response.headers


# ---------------------------------------------------------------------------------------------
# headers on every kind of response


def test_security_headers_on_every_kind_of_response(
    default_server: StartedServer, configured_server: StartedServer
) -> None:
    for server, frame in ((default_server, "SAMEORIGIN"), (configured_server, "DENY")):
        url, p = server.url, server.prefix
        responses = {
            "health": raw_request(url, "GET", p + "/health"),
            "json": raw_request(url, "GET", p + "/api/2.0/mlflow/experiments/search?max_results=1"),
            "error": raw_request(url, "GET", p + "/api/2.0/mlflow/experiments/get?experiment_id=987654"),
            "404": raw_request(url, "GET", p + "/api/2.0/mlflow/no-such-route"),
            "ui": raw_request(url, "GET", p + "/"),
        }
        for what, response in responses.items():
            assert response.headers.get("x-content-type-options") == "nosniff", (what, response.headers)
            assert response.headers.get("x-frame-options") == frame, (what, response.headers)


# ---------------------------------------------------------------------------------------------
# reflection


@pytest.mark.parametrize(
    "content_type",
    [
        f"text/html; {SCRIPT}",
        f"{SCRIPT}",
        f"application/x-www-form-urlencoded; charset={SCRIPT}",
        "text/html",
    ],
)
def test_hostile_content_type_is_not_reflected_as_html(
    default_server: StartedServer, content_type: str
) -> None:
    response = raw_request(
        default_server.url,
        "POST",
        "/api/2.0/mlflow/experiments/create",
        body=b'{"name": "ct"}',
        headers={"Content-Type": content_type},
    )
    assert_mlflow_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert response.content_type.startswith("application/json")
    assert b"<script" not in response.body.lower()


def test_hostile_values_in_errors_and_404s_are_never_html(default_server: StartedServer) -> None:
    url = default_server.url
    encoded = "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    for target in (
        f"/api/2.0/mlflow/experiments/get?experiment_id={encoded}",
        f"/api/2.0/mlflow/runs/get?run_id={encoded}",
        f"/get-artifact?run_id={encoded}&path=a",
        f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={encoded}",
    ):
        response = raw_request(url, "GET", target)
        assert 400 <= response.status < 500, response.describe()
        assert response.content_type.startswith("application/json"), response.describe()
    for target in (f"/{encoded}", f"/api/2.0/{encoded}", f"/ajax-api/2.0/mlflow/{encoded}"):
        response = raw_request(url, "GET", target)
        if response.content_type.startswith("text/html"):
            assert b"<script" not in response.body.lower(), response.describe()


# ---------------------------------------------------------------------------------------------
# stored XSS


ACTIVE_CONTENT = {
    "x.html": b"<html><script>alert(document.cookie)</script></html>",
    "x.htm": b"<script>alert(1)</script>",
    "x.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "x.xhtml": b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
    "x.xml": b'<?xml-stylesheet href="javascript:alert(1)"?><x/>',
    "noext": b"<html><script>alert(1)</script></html>",
    "x.txt": b"<html><script>alert(1)</script></html>",
    "x.png": b"<html><script>alert(1)</script></html>",
    'q"uote;x=evil.html': b"<script>alert(1)</script>",
}


def _disposition_filename(header: str) -> str | None:
    """The filename of an ``attachment; filename=...`` header: a bare token, or a quoted string
    (backslash escapes undone), as MLflow sends them."""
    match = re.fullmatch(
        r'attachment; filename=(?:"((?:[^"\\]|\\.)*)"|([!#$%&\'*+.^_`|~0-9A-Za-z-]+))(?:; filename\*=.*)?',
        header,
    )
    if match is None:
        return None
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match.group(1) is not None else match.group(2)


def test_html_and_svg_artifacts_are_served_as_attachments(default_server: StartedServer) -> None:

    url = default_server.url
    experiment_id = create_experiment(url, f"xss-{secrets.token_hex(4)}")
    run_id = str(create_run(url, experiment_id)["run_id"])
    model = checked_json(post_json(url, "/api/2.0/mlflow/logged-models", {"experiment_id": experiment_id}))
    model_id = str(model["model"]["info"]["model_id"])
    model_root = f"{experiment_id}/models/{model_id}/artifacts"
    for name, content in ACTIVE_CONTENT.items():
        q = urllib.parse.quote(name)
        for root in (f"{experiment_id}/{run_id}/artifacts", model_root):
            put = raw_request(url, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{root}/{q}", body=content)
            assert put.status == 200, put.describe()
        downloads = {
            "proxy": f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/{q}",
            "ajax proxy": f"/ajax-api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/{q}",
            "get-artifact": f"/get-artifact?run_id={run_id}&path={q}",
            "logged-model": (
                f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files?artifact_file_path={q}"
            ),
        }
        for route, target in downloads.items():
            for method in ("GET", "HEAD"):
                response = raw_request(url, method, target)
                where = f"{name} via {route} ({method})"
                assert response.status == 200, f"{where}: {response.describe()}"
                assert response.headers.get("x-content-type-options") == "nosniff", where
                disposition = response.headers.get("content-disposition", "")
                assert _disposition_filename(disposition) == name, f"{where}: {disposition!r}"
                if method == "GET":
                    assert response.body == content, where


def test_script_in_params_tags_and_names_comes_back_as_json(default_server: StartedServer) -> None:
    url = default_server.url
    hostile = f"{SCRIPT}\"'</script><img src=x onerror=alert(1)>\u2028"
    experiment_id = create_experiment(url, f"exp {hostile} {secrets.token_hex(3)}")
    run_id = str(create_run(url, experiment_id)["run_id"])
    for target, document in (
        ("/api/2.0/mlflow/runs/log-parameter", {"run_id": run_id, "key": "p", "value": hostile}),
        ("/api/2.0/mlflow/runs/set-tag", {"run_id": run_id, "key": "t", "value": hostile}),
        (
            "/api/2.0/mlflow/experiments/set-experiment-tag",
            {"experiment_id": experiment_id, "key": "e", "value": hostile},
        ),
    ):
        assert post_json(url, target, document).status == 200
    for target in (
        f"/api/2.0/mlflow/runs/get?run_id={run_id}",
        f"/ajax-api/2.0/mlflow/runs/get?run_id={run_id}",
        f"/api/2.0/mlflow/experiments/get?experiment_id={experiment_id}",
    ):
        response = raw_request(url, "GET", target)
        assert response.status == 200
        assert response.content_type.startswith("application/json"), response.describe()
        assert response.headers.get("x-content-type-options") == "nosniff"
        document = response.json()  # the quotes in the value did not break out of the JSON string
        text = json.dumps(document)
        assert hostile not in text  # only ever present as an escaped JSON string...
        assert json.dumps(hostile)[1:-1] in text  # ...with its exact value intact
    run = checked_json(raw_request(url, "GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}"))["run"]
    assert {p["key"]: p["value"] for p in run["data"]["params"]}["p"] == hostile
    assert {t["key"]: t["value"] for t in run["data"]["tags"]}["t"] == hostile


# ---------------------------------------------------------------------------------------------
# protocol-level Host confusion and the static prefix


def _raw_exchange(url: str, raw: bytes) -> bytes:
    """Sends bytes as they are (http.client refuses to send a request with two Host headers)."""

    parsed = urllib.parse.urlsplit(url)
    with socket.create_connection((parsed.hostname or "", parsed.port or 80), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_two_host_headers_are_refused(default_server: StartedServer) -> None:
    """RFC 9112 §3.2: more than one Host field -> 400. A proxy that routes on the first copy while
    the app checks the last would let a foreign Host through the allow-list."""
    for first, second in (("evil.example", "127.0.0.1"), ("127.0.0.1", "evil.example")):
        raw = (
            f"GET /api/2.0/mlflow/experiments/search?max_results=1 HTTP/1.1\r\nHost: {first}\r\n"
            f"Host: {second}\r\nConnection: close\r\n\r\n"
        ).encode()
        status_line = _raw_exchange(default_server.url, raw).split(b"\r\n", 1)[0]
        assert status_line.split()[1] in (b"400", b"403"), (first, second, status_line)


def test_static_prefix_cannot_be_climbed_out_of(configured_server: StartedServer) -> None:
    url = configured_server.url
    experiment_id = create_experiment(url + PREFIX, f"prefix-{secrets.token_hex(3)}")
    run_id = str(create_run(url + PREFIX, experiment_id)["run_id"])
    (configured_server.sandbox / "root" / "canary.txt").write_text("prefix-canary")
    # Tracking routes exist only under the prefix; dot segments do not bring them back.
    for target in (
        "/api/2.0/mlflow/experiments/search?max_results=1",
        PREFIX + "/../api/2.0/mlflow/experiments/search?max_results=1",
        PREFIX + "%2f..%2fapi/2.0/mlflow/experiments/search?max_results=1",
        PREFIX + "x/api/2.0/mlflow/experiments/search?max_results=1",
        PREFIX + "/%2e%2e/api/2.0/mlflow/experiments/search?max_results=1",
    ):
        response = raw_request(url, "GET", target)
        assert response.status == 404, f"{target}: {response.describe()}"
    # Artifact paths under the prefix get the same checks as without it.
    for path in (
        "../../canary.txt",
        "%2e%2e%2f%2e%2e%2fcanary.txt",
        "..%5c..%5ccanary.txt",
        "%252e%252e%252f",
    ):
        for target in (
            f"{PREFIX}/get-artifact?run_id={run_id}&path={path}",
            f"{PREFIX}/api/2.0/mlflow-artifacts/artifacts/{path}",
            f"/api/2.0/mlflow-artifacts/artifacts/{path}",
        ):
            response = raw_request(url, "GET", target)
            assert b"prefix-canary" not in response.body, target
            assert_mlflow_error(response, 400, "INVALID_PARAMETER_VALUE")
