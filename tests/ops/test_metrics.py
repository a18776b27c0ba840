"""Operators' view: Prometheus metrics scraped from the gateway (`--expose-prometheus`, two workers
summed) and from a split service's metrics port, parsed with prometheus_client's own parser; JSON
log lines carrying one request id from the gateway into the metadata service."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.databases import DatabaseFactory
from tests.support.health import grpc_serving, http_ok, wait_until
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess
from tests.support.servers import ServerLauncher, runstash_executable, server_env

API = "/api/2.0/mlflow"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of ``name``'s samples whose labels include ``labels`` (a label starting with '*' is a suffix)."""

    def matches(have: frozenset[tuple[str, str]]) -> bool:
        found = dict(have)
        return all(
            found.get(k, "").endswith(v[1:]) if v.startswith("*") else found.get(k) == v
            for k, v in labels.items()
        )

    return sum(value for (n, have), value in samples.items() if n == name and matches(have))


def post(base: str, path: str, body: dict[str, object], **headers: str) -> httpx.Response:
    answer = httpx.post(f"{base}{API}/{path}", json=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def get_run(base: str, run_id: str, **headers: str) -> httpx.Response:
    answer = httpx.get(f"{base}{API}/runs/get", params={"run_id": run_id}, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def new_run(base: str) -> str:
    experiment = post(base, "experiments/create", {"name": f"obs-{secrets.token_hex(4)}"}).json()
    return str(
        post(base, "runs/create", {"experiment_id": experiment["experiment_id"]}).json()["run"]["info"][
            "run_id"
        ]
    )


def log_points(base: str, run_id: str, n: int) -> None:
    metrics = [{"key": "loss", "value": i / 10, "timestamp": 1000 + i, "step": i} for i in range(n)]
    post(base, "runs/log-batch", {"run_id": run_id, "metrics": metrics})


def test_gateway_metrics_move_with_real_requests(
    server_launcher: ServerLauncher, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    db = database_factory.create("sqlite")
    args = ["--expose-prometheus", str(tmp_path / "prom"), "--workers", "2"]
    server = server_launcher.single(db.uri, str(tmp_path / "artifacts"), extra_args=args)
    base = server.url
    run_id = new_run(base)
    before = scrape(f"{base}/metrics")

    log_points(base, run_id, 25)
    for step in range(3):
        post(
            base,
            "runs/log-metric",
            {"run_id": run_id, "key": "acc", "value": 0.5, "timestamp": 1, "step": step},
        )
    payload = secrets.token_bytes(5000)
    path = f"{base}/api/2.0/mlflow-artifacts/artifacts/obs/{run_id}/blob.bin"
    assert httpx.put(path, content=payload, timeout=30).status_code == 200
    assert httpx.get(path, timeout=30).content == payload
    assert httpx.get(f"{base}{API}/experiments/get", params={"experiment_id": "12345"}).status_code == 404
    after = scrape(f"{base}/metrics")

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("runstash_metric_points_ingested_total") == 28
    assert moved("runstash_http_requests_total", method="POST", status="200") == 4
    assert moved("runstash_http_requests_total", method="PUT", status="200") == 1
    routes = {dict(labels)["route"] for (name, labels) in after if name == "runstash_http_requests_total"}
    assert any(r.endswith("/mlflow/runs/log-batch") for r in routes), routes
    assert moved("runstash_http_requests_total", method="GET", status="404") == 1
    batch_route = next(r for r in routes if r.endswith("/mlflow/runs/log-batch"))
    assert moved("runstash_http_request_duration_seconds_count", route=batch_route) == 1
    assert moved("runstash_http_request_duration_seconds_bucket", route=batch_route, le="+Inf") == 1
    assert moved("runstash_artifact_bytes_total", direction="in") == 5000
    assert moved("runstash_artifact_bytes_total", direction="out") == 5000
    assert moved("runstash_group_commit_size_count") >= 1
    assert ("runstash_db_pool_connections_in_use", frozenset({("pool", "write")})) in after


@pytest.fixture
def split_services(
    tmp_path: Path, database_factory: DatabaseFactory
) -> Iterator[tuple[str, int, list[ManagedProcess]]]:
    """`runstash metadata --metrics-port` and `runstash gateway` in front of it, JSON logs."""
    db = database_factory.create("sqlite")
    env = server_env({"RUNSTASH_LOG_FORMAT": "json"})
    grpc_port, metrics_port, http_port = free_port(), free_port(), free_port()
    exe = runstash_executable()
    metadata = ManagedProcess.start(
        "metadata",
        [
            exe,
            "metadata",
            "--backend-store-uri",
            db.uri,
            "--port",
            str(grpc_port),
            "--metrics-port",
            str(metrics_port),
        ],
        tmp_path / "metadata.log",
        env,
        tmp_path,
    )
    processes = [metadata]
    try:
        address = f"127.0.0.1:{grpc_port}"
        wait_until(lambda: grpc_serving(address), timeout=60, what="metadata service", alive=metadata.alive)
        gateway = ManagedProcess.start(
            "gateway",
            [
                exe,
                "gateway",
                "--metadata",
                address,
                "--port",
                str(http_port),
                "--expose-prometheus",
                str(tmp_path / "prom"),
            ],
            tmp_path / "gateway.log",
            env,
            tmp_path,
        )
        processes.append(gateway)
        base = f"http://127.0.0.1:{http_port}"
        wait_until(lambda: http_ok(f"{base}/health", "OK"), timeout=60, what="gateway", alive=gateway.alive)
        yield base, metrics_port, processes
    finally:
        for proc in reversed(processes):
            proc.stop()


def json_lines(path: Path) -> list[dict[str, object]]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_split_request_id_in_both_logs_and_service_metrics(
    split_services: tuple[str, int, list[ManagedProcess]],
) -> None:
    base, metrics_port, (metadata, gateway) = split_services
    service_metrics = f"http://127.0.0.1:{metrics_port}/metrics"
    run_id = new_run(base)
    before = scrape(service_metrics)

    request_id = f"ops-{secrets.token_hex(6)}"
    answer = get_run(base, run_id, **{"X-Request-Id": request_id})
    assert answer.headers["x-request-id"] == request_id
    generated = get_run(base, run_id).headers["x-request-id"]
    assert generated and generated != request_id

    def tagged(proc: ManagedProcess) -> list[dict[str, object]]:
        return [e for e in json_lines(proc.log_path) if e.get("request_id") == request_id]

    wait_until(
        lambda: bool(tagged(metadata)) and bool(tagged(gateway)), timeout=30, what="request id in both logs"
    )
    assert any("GetRun" in str(e["message"]) for e in tagged(metadata)), tagged(metadata)
    assert any("runs/get" in str(e["message"]) for e in tagged(gateway)), tagged(gateway)
    assert all(
        e.get("request_id") != request_id
        for e in json_lines(metadata.log_path)
        if "CreateRun" in str(e["message"])
    )

    log_points(base, run_id, 40)
    after = scrape(service_metrics)
    service = "runstash.metadata.MetadataService"
    get_runs = total(after, "runstash_grpc_requests_total", service=service, method="GetRun", code="OK")
    assert (
        get_runs - total(before, "runstash_grpc_requests_total", service=service, method="GetRun", code="OK")
        == 2
    )
    assert (
        total(after, "runstash_metric_points_ingested_total")
        - total(before, "runstash_metric_points_ingested_total")
        == 40
    )
    assert total(after, "runstash_grpc_request_duration_seconds_count", method="LogBatch") >= 1
    # The gateway's own scrape counts the HTTP side.
    gateway_samples = scrape(f"{base}/metrics")
    assert total(gateway_samples, "runstash_http_requests_total", method="POST", status="200") == 3
    assert total(gateway_samples, "runstash_http_requests_total", method="GET", route="*runs/get") == 2
