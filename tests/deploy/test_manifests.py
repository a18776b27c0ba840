"""The Kubernetes manifests and the compose file, checked without a cluster or an engine.

Schemas: kubernetes-validate's copy of the Kubernetes OpenAPI schemas (strict: unknown fields fail).
Shape: the artifact service scales on its own, every container is probed on its service's own
health check, and no gateway turns Host checking off with ``--allowed-hosts '*'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_FILES = sorted((DEPLOY / "k8s").glob("*.yaml"))


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in K8S_FILES:
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents() if d["kind"] == kind}


def _containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    return containers


@pytest.mark.parametrize("document", _documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_matches_the_kubernetes_schema(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_the_artifact_service_is_its_own_deployment_with_its_own_autoscaler() -> None:
    deployments = _by_kind("Deployment")
    artifacts = deployments["runstash-artifacts"]
    assert [c["args"][0] for c in _containers(artifacts)] == ["artifacts"]
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in _by_kind("HorizontalPodAutoscaler").values()}
    assert "runstash-artifacts" in targets


@pytest.mark.parametrize(
    ("name", "probe"),
    [
        ("runstash-metadata", {"grpc": {"port": 5001}}),
        ("runstash-artifacts", {"grpc": {"port": 5002}}),
        ("runstash-gateway", {"httpGet": {"path": "/health", "port": 5000}}),
    ],
)
def test_every_container_is_probed_on_its_health_check(name: str, probe: dict[str, Any]) -> None:
    (container,) = _containers(_by_kind("Deployment")[name])
    for kind in ("readinessProbe", "livenessProbe"):
        check = {k: v for k, v in container[kind].items() if k in probe}
        assert check == probe, (name, kind)


def _allowed_hosts_values(args: list[str]) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--allowed-hosts"]


def test_no_gateway_in_deploy_allows_every_host() -> None:
    deployments = _by_kind("Deployment").values()
    commands: list[list[str]] = [c.get("args", []) for d in deployments for c in _containers(d)]
    for path in sorted(DEPLOY.glob("compose*.yaml")):
        for service in yaml.safe_load(path.read_text())["services"].values():
            commands.append([str(part) for part in service.get("command", [])])
    gateway_hosts = [v for args in commands for v in _allowed_hosts_values(args)]
    assert gateway_hosts, "no gateway names its allowed hosts"
    for value in gateway_hosts:
        assert "*" not in value.split(","), value
