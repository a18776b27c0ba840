"""MLflow's basic-auth behaviour through the gateway: 401/403 shapes, creator MANAGE, tokens,
search filtered to readable experiments, trusted proxy header, login throttling."""

from __future__ import annotations

from tests.auth.stack import PASSWORD, AuthStack, basic


def test_anonymous_gets_mlflows_401_with_a_challenge(stack: AuthStack) -> None:
    response = stack.request("anonymous", "POST", "/api/2.0/mlflow/experiments/search", json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="mlflow"'
    assert response.text.startswith("You are not authenticated.")


def test_wrong_password_is_401_and_health_stays_public(stack: AuthStack) -> None:
    stack.headers["wrong"] = {"authorization": basic("reader", "not-the-password")}
    assert stack.request("wrong", "GET", "/api/2.0/mlflow/users/current").status_code == 401
    assert stack.request("anonymous", "GET", "/health").status_code == 200


def test_read_user_cannot_write_and_gets_403(stack: AuthStack) -> None:
    response = stack.request(
        "READ",
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        json={"run_id": stack.run_id, "key": "m", "value": 1.0, "timestamp": 1},
    )
    assert response.status_code == 403
    assert response.text == "Permission denied"
    assert (
        stack.request("READ", "GET", "/api/2.0/mlflow/runs/get", params={"run_id": stack.run_id}).status_code
        == 200
    )


def test_search_returns_only_readable_experiments(stack: AuthStack) -> None:
    made = stack.request("admin", "POST", "/api/2.0/mlflow/experiments/create", json={"name": "admins-only"})
    assert made.status_code == 200
    seen = stack.request("READ", "POST", "/api/2.0/mlflow/experiments/search", json={"max_results": 100})
    names = {e["name"] for e in seen.json()["experiments"]}
    assert "sweep" in names and "admins-only" not in names
    runs = stack.request(
        "none", "POST", "/api/2.0/mlflow/runs/search", json={"experiment_ids": [stack.experiment_id]}
    )
    assert runs.status_code == 200 and runs.json().get("runs") is None
    runs = stack.request(
        "READ", "POST", "/api/2.0/mlflow/runs/search", json={"experiment_ids": [stack.experiment_id]}
    )
    assert [r["info"]["run_id"] for r in runs.json()["runs"]] == [stack.run_id]


def test_creator_of_an_experiment_manages_it(stack: AuthStack) -> None:
    made = stack.request("none", "POST", "/api/2.0/mlflow/experiments/create", json={"name": "mine"})
    assert made.status_code == 200
    experiment_id = made.json()["experiment_id"]
    listed = stack.request("none", "GET", "/api/3.0/mlflow/users/current/permissions").json()
    assert {
        "resource_type": "experiment",
        "resource_pattern": experiment_id,
        "permission": "MANAGE",
    }.items() <= {**listed["permissions"][0]}.items()
    deleted = stack.request(
        "none", "POST", "/api/2.0/mlflow/experiments/delete", json={"experiment_id": experiment_id}
    )
    assert deleted.status_code == 200


def test_access_token_is_shown_once_works_as_bearer_and_dies_when_revoked(stack: AuthStack) -> None:
    made = stack.request("EDIT", "POST", "/api/2.0/mlflow/users/tokens/create", json={"name": "ci"})
    secret = made.json()["secret"]
    listed = stack.request("EDIT", "GET", "/api/2.0/mlflow/users/tokens/list").json()
    assert secret not in str(listed) and listed["tokens"][-1]["name"] == "ci"
    stack.headers["token"] = {"authorization": f"Bearer {secret}"}
    assert (
        stack.request("token", "GET", "/api/2.0/mlflow/users/current").json()["user"]["username"] == "editor"
    )
    token_id = made.json()["token"]["id"]
    assert (
        stack.request(
            "EDIT", "POST", "/api/2.0/mlflow/users/tokens/revoke", json={"id": token_id}
        ).status_code
        == 200
    )
    assert stack.request("token", "GET", "/api/2.0/mlflow/users/current").status_code == 401


def test_trusted_header_counts_only_from_a_trusted_proxy(stack: AuthStack) -> None:
    import asyncio

    import httpx

    async def current(client_address: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=stack.app, client=(client_address, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:5000") as client:
            return await client.get("/api/2.0/mlflow/users/current", headers={"X-Forwarded-User": "manager"})

    assert asyncio.run(current("10.9.3.4")).json()["user"]["username"] == "manager"
    assert asyncio.run(current("127.0.0.1")).status_code == 401


def test_failed_logins_are_throttled_per_user(stack: AuthStack) -> None:
    body = {"username": "guessed", "password": PASSWORD}
    assert stack.request("admin", "POST", "/api/2.0/mlflow/users/create", json=body).status_code == 200
    for n in range(6):
        stack.headers["guess"] = {"authorization": basic("guessed", f"guess-{n}")}
        assert stack.request("guess", "GET", "/api/2.0/mlflow/users/current").status_code == 401
    # While throttled even the right password is refused (without running scrypt for it).
    stack.headers["late"] = {"authorization": basic("guessed", PASSWORD)}
    assert stack.request("late", "GET", "/api/2.0/mlflow/users/current").status_code == 401


def test_only_admins_create_users(stack: AuthStack) -> None:
    body = {"username": "newbie", "password": "newbie-password-1"}
    assert stack.request("MANAGE", "POST", "/api/2.0/mlflow/users/create", json=body).status_code == 403
    made = stack.request("admin", "POST", "/api/2.0/mlflow/users/create", json=body)
    assert made.json()["user"] == {"id": made.json()["user"]["id"], "username": "newbie", "is_admin": False}
    short = stack.request(
        "admin", "POST", "/api/2.0/mlflow/users/create", json={"username": "x", "password": "short"}
    )
    assert short.status_code == 400 and "at least 12 characters" in short.json()["message"]


def test_a_role_grants_its_permissions_to_its_members(stack: AuthStack) -> None:
    made = stack.request(
        "admin", "POST", "/api/3.0/mlflow/roles/create", json={"name": "writers", "workspace": "default"}
    )
    assert made.status_code == 200, made.text
    role_id = made.json()["role"]["id"]
    run = {"run_id": stack.run_id, "key": "via-role", "value": 1.0, "timestamp": 1}
    assert stack.request("none", "POST", "/api/2.0/mlflow/runs/log-metric", json=run).status_code == 403
    every_experiment = {"resource_type": "experiment", "resource_pattern": "*", "permission": "EDIT"}
    added = stack.request(
        "admin",
        "POST",
        "/api/3.0/mlflow/roles/permissions/add",
        json={"role_id": role_id, **every_experiment},
    )
    assert added.json()["role_permission"]["permission"] == "EDIT"
    assigned = stack.request(
        "admin",
        "POST",
        "/api/3.0/mlflow/roles/assign",
        json={"username": "nobody-granted", "role_id": role_id},
    )
    assert assigned.json()["assignment"]["role_id"] == role_id
    assert stack.request("none", "POST", "/api/2.0/mlflow/runs/log-metric", json=run).status_code == 200
    listed = stack.request(
        "none", "GET", "/api/3.0/mlflow/users/roles/list", params={"username": "nobody-granted"}
    )
    assert [r["name"] for r in listed.json()["roles"]] == ["writers"]
    assert stack.request("MANAGE", "GET", "/api/3.0/mlflow/roles/list").status_code == 403
    stack.request(
        "admin",
        "DELETE",
        "/api/3.0/mlflow/roles/unassign",
        json={"username": "nobody-granted", "role_id": role_id},
    )
    assert stack.request("none", "POST", "/api/2.0/mlflow/runs/log-metric", json=run).status_code == 403
