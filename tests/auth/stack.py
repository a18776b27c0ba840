"""An all-in-one runstash with auth on, in this process: real database, real servicers behind the
declared permissions, the real gateway (ASGI, no socket), and one user per permission level."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from runstash_metadata.identity import roles
from runstash_metadata.identity import store as identity
from runstash_metadata.identity.config import AuthConfig
from runstash_metadata.identity.wiring import secure_servicers
from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.settings import MetadataSettings

ADMIN = ("admin", "admin-password-123")
PASSWORD = "user-password-1234"
ROLES = ("anonymous", "none", "READ", "USE", "EDIT", "MANAGE", "admin")
WORKSPACE_MANAGER = "ws-manager"
LEVEL_USERS = {"READ": "reader", "USE": "user", "EDIT": "editor", "MANAGE": "manager"}
MODEL_NAME = "sweep-model"
METADATA = "runstash.metadata.MetadataService"
ARTIFACTS = "runstash.artifacts.ArtifactService"
REGISTRY = "runstash.registry.ModelRegistryService"
MODEL_VERSION_FILES = "runstash.registry.ModelVersionArtifactService"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class AuthStack:
    app: Any
    servicers: dict[str, Any]
    metadata: MetadataServicer
    experiment_id: str = ""
    run_id: str = ""
    model_id: str = ""
    default_permission: str = "NO_PERMISSIONS"
    role_id: int = 0  # a role in the default workspace, and one of its permissions
    role_permission_id: int = 0
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def request(
        self,
        role: str,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        return asyncio.run(self.arequest(role, method, url, params=params, json=json, content=content))

    def ensure_registered_model(self) -> None:
        """The registered model the sweep's requests name exists, so no sweep caller creates it
        (and becomes its manager)."""
        path = "/api/2.0/mlflow/registered-models/create"
        made = self.request("admin", "POST", path, json={"name": MODEL_NAME})
        assert made.status_code == 200 or "already exists" in made.text, made.text

    def ensure_role(self) -> None:
        """The role (and role permission) the sweep's role requests name exists: an earlier
        request may have deleted it, and a missing role is refused to non-admins (as MLflow)."""
        with self.metadata.db.transaction() as conn:
            r = roles.workspace_of(conn, self.role_id, None) if self.role_id else None
            if r is None:
                self.role_id = roles.create_role(
                    conn, f"sweep-role-{self.role_permission_id}", "default", None
                ).id
            if roles.workspace_of(conn, None, self.role_permission_id) is None:
                added = roles.add_permission(conn, self.role_id, "experiment", "*", "READ")
                self.role_permission_id = added.id

    async def arequest(
        self,
        role: str,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:5000") as client:
            return await client.request(
                method, url, params=params, json=json, content=content, headers=self.headers.get(role, {})
            )


def _make_users(stack: AuthStack) -> None:
    with stack.metadata.db.transaction() as conn:
        users = {"none": identity.create_user(conn, "nobody-granted", PASSWORD)}
        stack.headers["none"] = {"authorization": basic("nobody-granted", PASSWORD)}
        for level, name in LEVEL_USERS.items():
            users[level] = identity.create_user(conn, name, PASSWORD)
            stack.headers[level] = {"authorization": basic(name, PASSWORD)}
        for level in LEVEL_USERS:
            identity.grant(conn, users[level], "experiment", stack.experiment_id, level)
            identity.grant(conn, users[level], "registered_model", MODEL_NAME, level)
        # MLflow's workspace admin: a role holding (workspace, *, MANAGE).
        manager = identity.create_user(conn, WORKSPACE_MANAGER, PASSWORD)
        managers = roles.create_role(conn, "sweep-managers", "default", None)
        roles.add_permission(conn, managers.id, "workspace", "*", "MANAGE")
        roles.assign(conn, manager, managers.id)
        stack.headers["workspace-manager"] = {"authorization": basic(WORKSPACE_MANAGER, PASSWORD)}
    stack.ensure_role()


def _make_resources(stack: AuthStack) -> None:
    ok = stack.request("admin", "POST", "/api/2.0/mlflow/experiments/create", json={"name": "sweep"})
    assert ok.status_code == 200, ok.text
    stack.experiment_id = ok.json()["experiment_id"]
    run = stack.request(
        "admin", "POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": stack.experiment_id}
    )
    stack.run_id = run.json()["run"]["info"]["run_id"]
    model = stack.request(
        "admin", "POST", "/api/2.0/mlflow/logged-models", json={"experiment_id": stack.experiment_id}
    )
    stack.model_id = model.json()["model"]["info"]["model_id"]
    # The sweep's create requests name these: they exist, so no sweep caller becomes a creator.
    made = stack.request("admin", "POST", "/api/2.0/mlflow/experiments/create", json={"name": MODEL_NAME})
    assert made.status_code == 200, made.text
    stack.ensure_registered_model()


@contextlib.contextmanager
def auth_stack(
    db_uri: str, artifacts: Path, default_permission: str = "NO_PERMISSIONS"
) -> Iterator[AuthStack]:
    from runstash_artifacts.model_versions import in_process_model_version_files
    from runstash_artifacts.resolver import MetadataResolver
    from runstash_artifacts.servicer import build_servicer
    from runstash_artifacts.settings import ArtifactSettings
    from runstash_gateway import GatewayBackends, GatewayConfig, build_app
    from runstash_metadata.registry.wiring import build_registry_servicer

    config = AuthConfig(True, default_permission, ADMIN[0], ADMIN[1])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNSTASH_AUTH", "true")
        patch.setenv("RUNSTASH_SERVICE_CREDENTIAL", "sweep-service-credential")
        patch.setenv("RUNSTASH_AUTH_TRUSTED_HEADER", "X-Forwarded-User")
        patch.setenv("RUNSTASH_AUTH_TRUSTED_PROXIES", "10.9.0.0/16")
        metadata = MetadataServicer.open(MetadataSettings.from_env(db_uri, "mlflow-artifacts:/"))
        artifact_servicer = build_servicer(
            str(artifacts), MetadataResolver.for_servicer(metadata), ArtifactSettings()
        )
        registry = build_registry_servicer(metadata)
        plain = {
            METADATA: metadata,
            ARTIFACTS: artifact_servicer,
            REGISTRY: registry,
            MODEL_VERSION_FILES: in_process_model_version_files(artifact_servicer, registry),
        }
        servicers = secure_servicers(plain, metadata.db, config)
        app = build_app(GatewayBackends.in_process(servicers), GatewayConfig())
        stack = AuthStack(app, servicers, metadata, default_permission=default_permission)
        stack.headers = {"anonymous": {}, "admin": {"authorization": basic(*ADMIN)}}
        try:
            _make_resources(stack)
            _make_users(stack)
            yield stack
        finally:
            asyncio.run(app.close())
            metadata.close()
