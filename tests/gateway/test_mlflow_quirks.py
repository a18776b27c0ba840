"""runstash_gateway.quirks: what `mlflow server` does that no protobuf rule says."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
import pytest
from runstash_gateway import Gateway, GatewayConfig
from runstash_gateway.quirks import check_content_type, decode_json, disabled_by_mode, merge_slashes
from runstash_protos.errors import RunstashError

Runner = Callable[..., None]


@pytest.mark.parametrize(
    ("path", "merged"),
    [
        ("//model-versions/get-artifact", "/model-versions/get-artifact"),
        ("///api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs/get"),
        # inside a path variable a `//` is an absolute artifact path, for the service to refuse
        (
            "/api/2.0/mlflow-artifacts/artifacts//etc/passwd",
            "/api/2.0/mlflow-artifacts/artifacts//etc/passwd",
        ),
        ("/api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs/get"),
    ],
)
def test_leading_repeated_slashes_route_as_one(path: str, merged: str) -> None:
    assert merge_slashes(path) == merged


def test_repeated_slashes_reach_the_route_as_in_flask(gateway_run: Runner) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        found = await client.get("http://127.0.0.1:5000//api/2.0/mlflow/experiments/search?max_results=5")
        assert found.status_code == 200 and found.json() == {}
        # MLflow's test_path_validation shape: the artifact path check answers through `//` too
        bad = await client.get("http://127.0.0.1:5000//api/2.0/mlflow-artifacts/artifacts?path=../x")
        assert bad.status_code == 400
        assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert bad.json()["message"] == "Invalid path"

    gateway_run(body)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", {}),
        (b"  ", {}),
        (b"null", {}),
        (b'{"a": 1}', {"a": 1}),
        (b'"{\\"a\\": 2}"', {"a": 2}),  # double-encoded by legacy clients
    ],
)
def test_bodies_mlflow_tolerates(raw: bytes, expected: dict[str, int]) -> None:
    assert decode_json(raw) == expected


def test_nan_literals_are_read_as_python_json_reads_them() -> None:
    value = decode_json(b'{"value": NaN}')["value"]
    assert math.isnan(value)


@pytest.mark.parametrize("raw", [b"[1]", b"{", b"3", b'"[1]"'])
def test_bodies_that_are_not_an_object_are_400(raw: bytes) -> None:
    with pytest.raises(RunstashError) as raised:
        decode_json(raw)
    assert raised.value.http_status == 400


def test_content_type_rule() -> None:
    check_content_type(b"application/json; charset=utf-8")
    check_content_type(b"Application/JSON")
    for bad in (None, b"text/plain", b"application/jsonx"):
        with pytest.raises(RunstashError):
            check_content_type(bad)


def test_modes_switch_routes_off_with_mlflows_text() -> None:
    no_artifacts = GatewayConfig(serve_artifacts=False)
    message = disabled_by_mode("/api/2.0/mlflow-artifacts/artifacts", no_artifacts)
    assert message is not None and b"--no-serve-artifacts" in message
    assert disabled_by_mode("/api/2.0/mlflow/runs/get", no_artifacts) is None
    only = GatewayConfig(artifacts_only=True)
    tracking = disabled_by_mode("/api/2.0/mlflow/runs/get", only)
    assert tracking is not None and b"--artifacts-only" in tracking
    assert disabled_by_mode("/api/2.0/mlflow-artifacts/artifacts", only) is None


def test_versions_are_both_said(gateway_run: Runner) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        version = await client.get("/version")
        assert version.text == "3.18.0"  # what the mlflow client reads
        assert version.headers["x-runstash-version"] == "9.9.9"
        both = (await client.get("/api/runstash/version")).json()
        assert both == {"runstash_version": "9.9.9", "mlflow_api_version": "3.18.0"}

    gateway_run(body, GatewayConfig(runstash_version="9.9.9"))
