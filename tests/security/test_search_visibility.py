"""The row half of the permission sweep: the registry's searches (registered models, model
versions, prompts; REST under /api and /ajax-api, and gRPC) return, for every kind of caller,
exactly the models that caller may read under MLflow's per-model rules: a grant on the model (direct
or through a role), else on every model ("*"), else ``default_permission``.

The filter is applied inside the SQL query: a page is full when enough readable rows exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from runstash_protos import registry_pb2
from runstash_protos.errors import RunstashError

from tests.auth.stack import LEVEL_USERS, ROLES, AuthStack, auth_stack
from tests.security.test_permission_sweep import _Context

GRANTED, HIDDEN, VIA_ROLE, EVERY = "vis-granted", "vis-hidden", "vis-role", "vis-every"
PROMPT, HIDDEN_PROMPT = "vis-prompt", "vis-prompt-hidden"
PROMPT_TAG = {"key": "mlflow.prompt.is_prompt", "value": "true"}
SEARCHES = (
    "/api/2.0/mlflow/registered-models/search",
    "/ajax-api/2.0/mlflow/registered-models/search",
    "/api/2.0/mlflow/model-versions/search",
    "/ajax-api/2.0/mlflow/model-versions/search",
)


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _build(stack: AuthStack) -> None:
    """Models with one version each, granted as the module docstring says."""
    for name in (GRANTED, HIDDEN, VIA_ROLE, EVERY):
        _ok(stack.request("admin", "POST", "/api/2.0/mlflow/registered-models/create", json={"name": name}))
        version = {"name": name, "source": f"runs:/{stack.run_id}/model", "run_id": stack.run_id}
        _ok(stack.request("admin", "POST", "/api/2.0/mlflow/model-versions/create", json=version))
    for name in (PROMPT, HIDDEN_PROMPT):
        made = {"name": name, "tags": [PROMPT_TAG]}
        _ok(stack.request("admin", "POST", "/api/2.0/mlflow/registered-models/create", json=made))
    grant = "/api/3.0/mlflow/users/permissions/grant"
    for level, username in LEVEL_USERS.items():
        for name in (GRANTED, PROMPT):
            body = {"username": username, "resource_type": "registered_model", "resource_id": name}
            _ok(stack.request("admin", "POST", grant, json={**body, "permission": level}))
    # "nobody-granted" reads one model through a role; "editor" reads every model ("*").
    role = _ok(stack.request("admin", "POST", "/api/3.0/mlflow/roles/create", json={"name": "vis-readers"}))
    role_id = role["role"]["id"]
    permission = {"role_id": role_id, "resource_type": "registered_model", "permission": "READ"}
    permission["resource_pattern"] = VIA_ROLE
    _ok(stack.request("admin", "POST", "/api/3.0/mlflow/roles/permissions/add", json=permission))
    assignment = {"username": "nobody-granted", "role_id": role_id}
    _ok(stack.request("admin", "POST", "/api/3.0/mlflow/roles/assign", json=assignment))
    every = {"username": "editor", "resource_type": "registered_model", "resource_id": "*"}
    _ok(stack.request("admin", "POST", grant, json={**every, "permission": "READ"}))


@pytest.fixture(scope="module", params=["NO_PERMISSIONS", "READ"])
def stack(
    request: pytest.FixtureRequest,
    database_factory: Any,
    db_kind: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AuthStack]:
    database = database_factory.create(db_kind)
    with auth_stack(database.uri, tmp_path_factory.mktemp("artifacts"), request.param) as built:
        _build(built)
        yield built


def visible(stack: AuthStack, role: str) -> set[str] | int:
    """The models (not prompts) the caller sees; 401 for anonymous."""
    if role == "anonymous":
        return 401
    default_reads = stack.default_permission == "READ"
    if role == "admin" or default_reads or role == "EDIT":  # EDIT's user holds READ on "*"
        return {GRANTED, HIDDEN, VIA_ROLE, EVERY}
    if role == "none":
        return {VIA_ROLE}
    return {GRANTED}


def _names(payload: dict[str, Any], key: str) -> list[str]:
    return [row["name"] for row in payload.get(key, [])]


@pytest.mark.parametrize("role", ROLES)
def test_searches_show_only_readable_models(stack: AuthStack, role: str) -> None:
    want = visible(stack, role)
    for path in SEARCHES:
        key = "registered_models" if "registered-models" in path else "model_versions"
        response = stack.request(role, "GET", path, params={"filter": "name LIKE 'vis-%'"})
        if isinstance(want, int):
            assert response.status_code == want, (path, response.text)
            continue
        names = _names(_ok(response), key)
        assert set(names) == want, (path, role, names)
        assert len(names) == len(set(names)), names  # one version each: no duplicates, no gaps


@pytest.mark.parametrize("role", ["none", "READ", "MANAGE", "admin"])
def test_a_page_is_filled_from_readable_rows_only(stack: AuthStack, role: str) -> None:
    """With max_results=1 the caller pages through exactly their models: filtered in SQL, so no
    page is short and no page holds a model they may not read."""
    want = visible(stack, role)
    assert isinstance(want, set)
    seen: list[str] = []
    token = None
    for _ in range(10):
        params = {"filter": "name LIKE 'vis-%'", "max_results": 1, **({"page_token": token} if token else {})}
        page = _ok(stack.request(role, "GET", "/api/2.0/mlflow/registered-models/search", params=params))
        seen += _names(page, "registered_models")
        assert len(page.get("registered_models", [])) == 1 or not page.get("next_page_token")
        token = page.get("next_page_token")
        if not token:
            break
    assert sorted(seen) == sorted(want)


@pytest.mark.parametrize("role", ROLES[1:])
def test_prompt_search_shows_only_readable_prompts(stack: AuthStack, role: str) -> None:
    params = {"filter": "tags.`mlflow.prompt.is_prompt` = 'true'"}
    found = _ok(stack.request(role, "GET", "/api/2.0/mlflow/registered-models/search", params=params))
    names = set(_names(found, "registered_models"))
    everything = role in ("admin", "EDIT") or stack.default_permission == "READ"
    assert names == ({PROMPT, HIDDEN_PROMPT} if everything else {PROMPT} if role != "none" else set())


def test_grpc_search_is_filtered_the_same(stack: AuthStack) -> None:
    servicer = stack.servicers["runstash.registry.ModelRegistryService"]
    request = registry_pb2.SearchRegisteredModels(filter="name LIKE 'vis-%'")
    for role in ROLES:
        context = _Context(tuple(stack.headers.get(role, {}).items()))
        try:
            names = {m.name for m in servicer.SearchRegisteredModels(request, context).registered_models}
        except RunstashError as error:
            assert visible(stack, role) == error.http_status
            continue
        assert names == visible(stack, role), role


def test_get_latest_versions_is_refused_without_read(stack: AuthStack) -> None:
    path = "/api/2.0/mlflow/registered-models/get-latest-versions"
    hidden = stack.request("none", "POST", path, json={"name": HIDDEN})
    reads = stack.default_permission == "READ"
    assert hidden.status_code == (200 if reads else 403), hidden.text
    granted = _ok(stack.request("READ", "POST", path, json={"name": GRANTED}))
    assert [v["name"] for v in granted["model_versions"]] == [GRANTED]
