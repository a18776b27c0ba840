"""Resource limits (security.md #12): oversized batches, page sizes, giant names, huge and deep
bodies, broken encodings, huge numbers, slow and vanishing upload clients.

Every shape is a client mistake: the answer is a clean 4xx with MLflow JSON (never a 5xx, which
clients retry for minutes), nothing is written, and the server keeps serving.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.security.support import (
    RawResponse,
    StartedServer,
    assert_mlflow_error,
    checked_json,
    create_experiment,
    create_run,
    files_under,
    healthy,
    post_json,
    raw_request,
    start_sqlite_server,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher

JSON_LIMIT = 32 * 1024 * 1024  # the gateway's max_json_body_bytes default


@pytest.fixture(scope="module")
def server(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StartedServer]:
    yield from start_sqlite_server("sec-limits", server_launcher, database_factory, tmp_path_factory)


@pytest.fixture(scope="module")
def run(server: StartedServer) -> tuple[str, str]:
    experiment_id = create_experiment(server.url, "limits")
    return experiment_id, str(create_run(server.url, experiment_id)["run_id"])


def _client_error(response: RawResponse) -> None:
    assert 400 <= response.status < 500, response.describe()
    assert response.content_type.startswith("application/json"), response.describe()
    body = response.json()
    assert isinstance(body.get("error_code"), str) and isinstance(body.get("message"), str), body


def _run_data(url: str, run_id: str) -> dict[str, Any]:
    data: dict[str, Any] = checked_json(raw_request(url, "GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}"))[
        "run"
    ]["data"]
    return data


def _metric(i: int, key: str = "m") -> dict[str, Any]:
    return {"key": key, "value": float(i), "timestamp": 1700000000000, "step": i}


# ---------------------------------------------------------------------------------------------
# batches and pages


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"metrics": [_metric(i, "over") for i in range(1001)]}, "at most 1000 metrics. Got 1001 metrics"),
        ({"params": [{"key": f"over{i}", "value": "v"} for i in range(101)]}, "at most 100 params. Got 101"),
        ({"tags": [{"key": f"over{i}", "value": "v"} for i in range(101)]}, "at most 100 tags. Got 101"),
        (
            {
                "metrics": [_metric(i, "over") for i in range(950)],
                "params": [{"key": f"over{i}", "value": "v"} for i in range(51)],
            },
            "at most 1000 metrics, params, and tags",
        ),
    ],
    ids=["1001-metrics", "101-params", "101-tags", "1001-entities"],
)
def test_oversized_log_batch_is_refused_whole(
    server: StartedServer, run: tuple[str, str], document: dict[str, Any], message: str
) -> None:
    _, run_id = run
    response = post_json(server.url, "/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, **document})
    assert_mlflow_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert message in response.json()["message"]
    data = _run_data(server.url, run_id)
    assert not [m for m in data.get("metrics", []) if m["key"] == "over"]
    assert not [p for p in data.get("params", []) if p["key"].startswith("over")]
    assert not [t for t in data.get("tags", []) if t["key"].startswith("over")]
    history = checked_json(
        raw_request(server.url, "GET", f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=over")
    )
    assert not history.get("metrics")


def test_batch_at_the_limit_is_accepted(server: StartedServer, run: tuple[str, str]) -> None:
    """The refusals above are about the limit, not about batches in general."""
    _, run_id = run
    response = post_json(
        server.url,
        "/api/2.0/mlflow/runs/log-batch",
        {"run_id": run_id, "metrics": [_metric(i, "at-limit") for i in range(1000)]},
    )
    assert response.status == 200, response.describe()
    history = checked_json(
        raw_request(
            server.url, "GET", f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=at-limit"
        )
    )
    assert len(history["metrics"]) == 1000


@pytest.mark.parametrize(
    ("method", "target", "document"),
    [
        ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "max_results": 50001}),
        ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "max_results": 10**12}),
        ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "max_results": 10**30}),
        ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "max_results": -1}),
        ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "max_results": "lots"}),
        ("POST", "/api/2.0/mlflow/experiments/search", {"max_results": 50001}),
        ("POST", "/api/2.0/mlflow/experiments/search", {"max_results": 2**63}),
        ("GET", "/api/2.0/mlflow/experiments/search?max_results=50001", None),
        ("GET", "/api/2.0/mlflow/experiments/search?max_results=99999999999999999999999", None),
        ("GET", "/api/2.0/mlflow/metrics/get-history?run_id=RUN&metric_key=m&max_results=0", None),
        (
            "GET",
            "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=RUN&metric_key=m&max_results=2501",
            None,
        ),
        ("POST", "/api/2.0/mlflow/logged-models/search", {"experiment_ids": ["0"], "max_results": 10**30}),
    ],
)
def test_page_sizes_beyond_the_limit_are_client_errors(
    server: StartedServer, run: tuple[str, str], method: str, target: str, document: Any
) -> None:
    target = target.replace("RUN", run[1])
    if method == "GET":
        response = raw_request(server.url, "GET", target)
    else:
        response = raw_request(
            server.url,
            "POST",
            target,
            body=json.dumps(document).encode(),
            headers={"Content-Type": "application/json"},
        )
    _client_error(response)


# ---------------------------------------------------------------------------------------------
# giant names and values


@pytest.mark.parametrize(
    ("target", "field", "limit"),
    [
        ("/api/2.0/mlflow/experiments/create", "name", 500),
        ("/api/2.0/mlflow/runs/log-parameter", "key", 250),
        ("/api/2.0/mlflow/runs/log-metric", "key", 250),
        ("/api/2.0/mlflow/runs/set-tag", "key", 250),
        ("/api/2.0/mlflow/experiments/set-experiment-tag", "value", 20000),
    ],
)
def test_giant_names_are_refused(
    server: StartedServer, run: tuple[str, str], target: str, field: str, limit: int
) -> None:
    experiment_id, run_id = run
    base: dict[str, Any] = {
        "run_id": run_id,
        "experiment_id": experiment_id,
        "key": "k",
        "value": 1.0 if "metric" in target else "v",
        "timestamp": 1,
        "name": "n",
    }
    for size in (limit + 1, 1_000_000):
        # A long run of digits is the shape that froze MLflow's UI (CVE-2024-6838).
        response = post_json(server.url, target, {**base, field: "1" * size})
        assert_mlflow_error(response, 400, "INVALID_PARAMETER_VALUE")
        assert f"exceeds the maximum length of {limit}" in response.json()["message"]


def test_giant_run_name_and_values_never_5xx(server: StartedServer, run: tuple[str, str]) -> None:
    experiment_id, run_id = run
    url = server.url
    responses = [
        post_json(
            url, "/api/2.0/mlflow/runs/create", {"experiment_id": experiment_id, "run_name": "r" * 100_000}
        ),
        post_json(
            url, "/api/2.0/mlflow/runs/set-tag", {"run_id": run_id, "key": "big", "value": "v" * 5_000_000}
        ),
        post_json(
            url,
            "/api/2.0/mlflow/runs/log-parameter",
            {"run_id": run_id, "key": "big", "value": "v" * 5_000_000},
        ),
        post_json(
            url,
            "/api/2.0/mlflow/runs/update",
            {"run_id": run_id, "run_name": "n" * 100_000, "status": "RUNNING"},
        ),
    ]
    for response in responses:
        assert response.status < 500, response.describe()
        if response.status != 200:
            _client_error(response)
    data = _run_data(url, run_id)
    for item in data.get("tags", []) + data.get("params", []):
        if item["key"] == "big":  # MLflow truncates long tag and param values
            assert len(item["value"]) <= 8000


# ---------------------------------------------------------------------------------------------
# body size, depth, encoding, numbers


def test_json_body_over_the_limit_is_413_and_the_server_lives(server: StartedServer) -> None:
    url = server.url
    name = "big-" + "a" * (JSON_LIMIT + 1024)
    body = json.dumps({"name": name}).encode()
    response = raw_request(
        url,
        "POST",
        "/api/2.0/mlflow/experiments/create",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    _client_error(response)
    assert response.status == 413
    assert healthy(url)


def test_json_body_over_the_limit_without_content_length(server: StartedServer) -> None:
    """Chunked transfer: the limit must be enforced while reading, not from the header."""

    parsed = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=60)
    piece = b"a" * (1024 * 1024)

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(JSON_LIMIT // len(piece) + 2):
            yield piece
        yield b'"}'

    try:
        conn.request(
            "POST",
            "/api/2.0/mlflow/experiments/create",
            body=chunks(),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        body = response.read()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed while we were still sending: also a refusal
    else:
        assert 400 <= response.status < 500, (response.status, body[:200])
        assert json.loads(body)["error_code"]
    finally:
        conn.close()
    assert healthy(server.url)


def test_lying_content_length_is_refused_early(server: StartedServer) -> None:
    response = raw_request(
        server.url,
        "POST",
        "/api/2.0/mlflow/experiments/create",
        body=None,
        headers={"Content-Type": "application/json", "Content-Length": str(10**12)},
        timeout=10,
    )
    _client_error(response)


@pytest.mark.parametrize("depth", [100, 2000, 100_000])
def test_deeply_nested_json_is_a_clean_400(server: StartedServer, depth: int) -> None:
    for prefix, suffix in ((b'{"name": ', b"}"), (b'{"name": "x", "tags": ', b"}"), (b"", b"")):
        for open_, close in ((b"[", b"]"), (b'{"a":', b"}")):
            body = prefix + open_ * depth + b"1" + close * depth + suffix
            response = raw_request(
                server.url,
                "POST",
                "/api/2.0/mlflow/experiments/create",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            assert_mlflow_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert healthy(server.url)


def test_invalid_utf8_anywhere_is_a_client_error(server: StartedServer, run: tuple[str, str]) -> None:
    url = server.url
    _, run_id = run
    bodies = [
        b'{"name": "\xff\xfe"}',
        b'{"name": "\xed\xa0\x80"}',  # a UTF-16 surrogate encoded in UTF-8
        b'{"name": "\xc0\xaf"}',  # overlong encoding of "/"
        b'{"na\xffme": "x"}',
        b'\xef\xbb\xbf{"name": "bom"}',
        b'{"name": "\\ud800"}',  # lone surrogate as a JSON escape
    ]
    for body in bodies:
        response = raw_request(
            url,
            "POST",
            "/api/2.0/mlflow/experiments/create",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        assert response.status < 500, f"{body!r}: {response.describe()}"
        if response.status != 200:
            _client_error(response)
    for target in (
        "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%ff%fe",
        f"/api/2.0/mlflow/runs/get?run_id={run_id}%ff",
        f"/get-artifact?run_id={run_id}&path=%ff%c0%af",
        "/api/2.0/mlflow-artifacts/artifacts/%ff%fe.txt",
        f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=%ed%a0%80",
    ):
        response = raw_request(url, "GET", target)
        assert response.status < 500, f"{target}: {response.describe()}"
    assert healthy(url)


def test_huge_numbers_are_client_errors(server: StartedServer, run: tuple[str, str]) -> None:
    url = server.url
    experiment_id, run_id = run
    raw_bodies = [
        b'{"run_id": "RUN", "key": "n", "value": 1, "timestamp": 1e40}',
        b'{"run_id": "RUN", "key": "n", "value": 1, "timestamp": 100000000000000000000000000000}',
        b'{"run_id": "RUN", "key": "n", "value": 1, "timestamp": 1, "step": 9223372036854775808}',
        b'{"run_id": "RUN", "key": "n", "value": 1, "timestamp": 1, "step": -9223372036854775809}',
        b'{"run_id": "RUN", "key": "n", "value": 1, "timestamp": "99999999999999999999999"}',
        b'{"run_id": "RUN", "key": "n", "value": 1, "timestamp": ' + b"9" * 100_000 + b"}",
        b'{"run_id": "RUN", "key": "n", "value": 1e999999, "timestamp": 1}',
        b'{"run_id": "RUN", "key": "n", "value": 1' + b"0" * 5000 + b', "timestamp": 1}',
        b'{"run_id": "RUN", "key": "n", "value": "1e400", "timestamp": 1}',
        b'{"run_id": "RUN", "key": "n", "value": 1, "timestamp": 1.5}',
    ]
    for body in raw_bodies:
        response = raw_request(
            url,
            "POST",
            "/api/2.0/mlflow/runs/log-metric",
            body=body.replace(b"RUN", run_id.encode()),
            headers={"Content-Type": "application/json"},
        )
        assert response.status < 500, f"{body[:120]!r}: {response.describe()}"
        if response.status != 200:
            _client_error(response)
    for target in (
        "/api/2.0/mlflow/experiments/get?experiment_id=" + "9" * 5000,
        "/api/2.0/mlflow/experiments/get?experiment_id=-1",
        "/api/2.0/mlflow/experiments/get?experiment_id=9223372036854775808",
        f"/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={run_id}&metric_key=n"
        "&start_step=0&end_step=99999999999999999999999",
    ):
        response = raw_request(url, "GET", target)
        assert response.status < 500, f"{target}: {response.describe()}"
    response = post_json(
        url, "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment_id], "page_token": "A" * 100_000}
    )
    _client_error(response)
    assert healthy(url)


# ---------------------------------------------------------------------------------------------
# slow and vanishing clients


def _open(url: str) -> socket.socket:

    parsed = urllib.parse.urlsplit(url)
    return socket.create_connection((parsed.hostname or "", parsed.port or 80), timeout=10)


@pytest.mark.parametrize("route", ["proxy PUT", "upload-artifact"])
def test_client_vanishing_mid_upload_leaves_no_artifact(
    server: StartedServer, run: tuple[str, str], route: str
) -> None:
    url = server.url
    experiment_id, run_id = run
    name = f"partial-{route.replace(' ', '-')}.bin"
    if route == "proxy PUT":
        target = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/{name}"
        method = "PUT"
    else:
        target = f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={run_id}&path={name}"
        method = "POST"
    declared = 8 * 1024 * 1024
    sock = _open(url)
    try:
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {declared}\r\n\r\n"
        sock.sendall(head.encode())
        piece = b"x" * (256 * 1024)
        for _ in range(12):  # 3 MiB, slowly: several chunks reach the storage before we vanish
            sock.sendall(piece)
            time.sleep(0.02)
    finally:
        sock.close()  # without sending the rest: the body is cut short

    def visible() -> bool:
        listing = checked_json(
            raw_request(url, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}")
        ).get("files", [])
        return any(f["path"] == name for f in listing)

    # The server notices the disconnect asynchronously: watch the run root for a bounded window;
    # the cut-short file must not show up at any point of it.
    window_end = time.monotonic() + 1.5
    while time.monotonic() < window_end:
        assert not visible(), "a cut-short upload is visible as an artifact"
        time.sleep(0.1)
    assert healthy(url)
    got = raw_request(url, "GET", f"/get-artifact?run_id={run_id}&path={name}")
    assert got.status == 404, got.describe()
    final = server.artifacts / experiment_id / run_id / "artifacts" / name
    assert not final.exists()
    # Nothing of it lingers as a visible, same-named file anywhere under the root either.
    assert not [p for p in files_under(server.artifacts) if p.name == name]


def test_slow_header_clients_do_not_starve_the_server(server: StartedServer) -> None:
    url = server.url
    sockets = []
    try:
        for _ in range(64):
            sock = _open(url)
            sock.sendall(
                b"GET /api/2.0/mlflow/experiments/search?max_results=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            )
            sockets.append(sock)  # headers never finished
        for _ in range(64):
            sock = _open(url)
            sock.sendall(
                b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
            )
            sockets.append(sock)  # body never finished
        start = time.monotonic()
        response = raw_request(url, "GET", "/api/2.0/mlflow/experiments/search?max_results=1", timeout=10)
        assert response.status == 200
        assert time.monotonic() - start < 5
    finally:
        for sock in sockets:
            sock.close()
    assert healthy(url)
