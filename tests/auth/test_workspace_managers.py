"""Who besides an administrator may manage users and roles: MLflow 3.17.2's rules, as observed on
``mlflow server --app-name basic-auth`` for the same requests (workspaces off, so every role is
in workspace "default"):

- a workspace manager (a role holding (workspace, *, MANAGE)) creates users, manages the roles of
  the workspace (create, update, delete, permissions, assignments), sees other users' grants and
  roles, grants on any resource including "*", and holds MANAGE on every resource;
- a member (anyone with a role or a grant of their own there) sees the workspace's roles;
- an experiment's manager grants and revokes on that experiment only;
- a role that does not exist is refused (403) to non-admins, never a 404;
- a role request naming no role and no workspace is a 400.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth.stack import AuthStack

MANAGER, MEMBER, OWNER, NOBODY = "workspace-manager", "READ", "MANAGE", "none"
ROLES_API = "/api/3.0/mlflow/roles"
MISSING = {"error_code": "INVALID_PARAMETER_VALUE"}


def _status(stack: AuthStack, who: str, method: str, path: str, body: dict[str, Any]) -> int:
    if method == "GET":
        return stack.request(who, method, path, params=body).status_code
    return stack.request(who, method, path, json=body).status_code


@pytest.fixture(scope="module")
def role(stack: AuthStack) -> dict[str, int]:
    """A role of the default workspace (made by the administrator) with one permission."""
    made = stack.request(
        "admin", "POST", f"{ROLES_API}/create", json={"name": "analysts", "workspace": "default"}
    )
    assert made.status_code == 200, made.text
    role_id = made.json()["role"]["id"]
    body = {"role_id": role_id, "resource_type": "experiment", "resource_pattern": "*", "permission": "READ"}
    added = stack.request("admin", "POST", f"{ROLES_API}/permissions/add", json=body)
    assert added.status_code == 200, added.text
    return {"role_id": role_id, "role_permission_id": added.json()["role_permission"]["id"]}


def test_role_management_by_caller(stack: AuthStack, role: dict[str, int]) -> None:
    rid, pid = role["role_id"], role["role_permission_id"]
    cases: list[tuple[str, str, str, dict[str, Any], int]] = [
        # who, method, path, body, MLflow's status
        (MEMBER, "GET", f"{ROLES_API}/get", {"role_id": rid}, 200),
        (MEMBER, "GET", f"{ROLES_API}/permissions/list", {"role_id": rid}, 200),
        (MEMBER, "GET", f"{ROLES_API}/list", {"workspace": "default"}, 200),
        (MEMBER, "GET", f"{ROLES_API}/list", {}, 403),
        (MEMBER, "GET", f"{ROLES_API}/users/list", {"role_id": rid}, 403),
        (MEMBER, "POST", f"{ROLES_API}/create", {"name": "by-member", "workspace": "default"}, 403),
        (MEMBER, "POST", f"{ROLES_API}/create", {"name": "by-member"}, 400),
        (MEMBER, "PATCH", f"{ROLES_API}/update", {"role_id": rid, "description": "x"}, 403),
        (MEMBER, "GET", "/api/3.0/mlflow/users/roles/list", {"username": "editor"}, 403),
        (
            MEMBER,
            "POST",
            "/api/2.0/mlflow/users/create",
            {"username": "by-member", "password": "x" * 12},
            403,
        ),
        (NOBODY, "GET", f"{ROLES_API}/get", {"role_id": rid}, 403),
        (NOBODY, "GET", f"{ROLES_API}/list", {"workspace": "default"}, 403),
        (MANAGER, "GET", f"{ROLES_API}/get", {"role_id": 999_999}, 403),
        (MANAGER, "GET", f"{ROLES_API}/list", {}, 403),
        (MANAGER, "GET", f"{ROLES_API}/list", {"workspace": "default"}, 200),
        (MANAGER, "POST", f"{ROLES_API}/create", {"name": "by-manager", "workspace": "default"}, 200),
        (MANAGER, "POST", f"{ROLES_API}/create", {"name": "by-manager-2"}, 400),
        (MANAGER, "PATCH", f"{ROLES_API}/update", {"description": "x"}, 400),
        (MANAGER, "PATCH", f"{ROLES_API}/update", {"role_id": rid, "description": "x"}, 200),
        (MANAGER, "PATCH", f"{ROLES_API}/update", {"role_id": rid, "name": "by-manager"}, 400),
        (
            MANAGER,
            "PATCH",
            f"{ROLES_API}/permissions/update",
            {"role_permission_id": pid, "permission": "EDIT"},
            200,
        ),
        (MANAGER, "POST", f"{ROLES_API}/assign", {"username": "user", "role_id": rid}, 200),
        (MANAGER, "GET", f"{ROLES_API}/users/list", {"role_id": rid}, 200),
        (MANAGER, "GET", "/api/3.0/mlflow/users/roles/list", {"username": "user"}, 200),
        (MANAGER, "DELETE", f"{ROLES_API}/unassign", {"username": "user", "role_id": rid}, 200),
        (MANAGER, "DELETE", f"{ROLES_API}/permissions/remove", {"role_permission_id": pid}, 200),
        (
            MANAGER,
            "POST",
            "/api/2.0/mlflow/users/create",
            {"username": "by-manager", "password": "x" * 12},
            200,
        ),
        (MANAGER, "DELETE", "/api/2.0/mlflow/users/delete", {"username": "by-manager"}, 403),
        (MANAGER, "PATCH", "/api/2.0/mlflow/users/update-admin", {"username": "user", "is_admin": True}, 403),
        (MANAGER, "DELETE", f"{ROLES_API}/delete", {"role_id": rid}, 200),
    ]
    got = [
        (who, method, path, body, _status(stack, who, method, path, body))
        for who, method, path, body, _ in cases
    ]
    assert got == cases


def test_grants_by_caller(stack: AuthStack) -> None:
    grant, get = "/api/3.0/mlflow/users/permissions/grant", "/api/3.0/mlflow/users/permissions/get"
    made = {"username": "grantee", "password": "grantee-password-1"}
    assert stack.request("admin", "POST", "/api/2.0/mlflow/users/create", json=made).status_code == 200
    on = {"username": "grantee", "resource_type": "experiment", "resource_id": stack.experiment_id}
    every = {**on, "resource_id": "*"}
    # The experiment's manager grants on it, but not on every experiment, nor reads others' grants.
    assert _status(stack, OWNER, "POST", grant, {**on, "permission": "EDIT"}) == 200
    assert _status(stack, OWNER, "POST", grant, {**every, "permission": "READ"}) == 403
    assert _status(stack, OWNER, "GET", get, on) == 403
    assert _status(stack, MEMBER, "POST", grant, {**every, "permission": "READ"}) == 403
    # The workspace manager does all three.
    assert _status(stack, MANAGER, "GET", get, on) == 200
    assert _status(stack, MANAGER, "POST", "/api/3.0/mlflow/users/permissions/revoke", on) == 200
    assert _status(stack, MANAGER, "POST", grant, {**every, "permission": "READ"}) == 200
    assert stack.request(MANAGER, "GET", get, params=on).json() == {"allowed": False, "permission": "READ"}


def test_a_workspace_manager_manages_every_resource(stack: AuthStack) -> None:
    e = stack.experiment_id
    body = {"experiment_id": e, "new_name": "sweep-renamed"}
    renamed = stack.request(MANAGER, "POST", "/api/2.0/mlflow/experiments/update", json=body)
    assert renamed.status_code == 200, renamed.text
    assert (
        stack.request(
            NOBODY, "GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": e}
        ).status_code
        == 403
    )
    found = stack.request(MANAGER, "POST", "/api/2.0/mlflow/experiments/search", json={"max_results": 100})
    assert e in {x["experiment_id"] for x in found.json()["experiments"]}
