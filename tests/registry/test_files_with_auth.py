"""A model version's files and a run's artifact listing with auth on, in the single and split
deployments. In the split one the artifact service asks the metadata service where the files are
(the registry's download URI, the run's artifact root) on the caller's behalf: it forwards the
caller's identity and the gateway's service credential, so a permitted user is served and the
registry still refuses one without READ."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.auth.stack import basic

ADMIN = ("admin", "admin-password-123")
READER = ("model-reader", "reader-password-123")
STRANGER = ("stranger", "stranger-password-12")
MODEL = "files-model"
MLMODEL = b"artifact_path: model\nflavors: {}\n"


@pytest.fixture(scope="module")
def server(
    database_factory: Any, db_kind: str, deployment: str, server_launcher: Any, tmp_path_factory: Any
) -> Iterator[Any]:
    db = database_factory.create(db_kind)
    env = {
        "RUNSTASH_AUTH": "true",
        "RUNSTASH_SERVICE_CREDENTIAL": "files-service-credential",
        "MLFLOW_AUTH_ADMIN_USERNAME": ADMIN[0],
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1],
        "MLFLOW_AUTH_CONFIG_PATH": str(_config(tmp_path_factory)),
    }
    destination = str(tmp_path_factory.mktemp("files-artifacts"))
    running = server_launcher.launch(deployment, db.uri, destination, env=env, label=f"files-{db_kind}")
    yield running
    server_launcher.stop(running)


def _config(tmp_path_factory: Any) -> Any:
    path = tmp_path_factory.mktemp("auth-config") / "auth.ini"
    path.write_text("[mlflow]\ndefault_permission = NO_PERMISSIONS\n")
    return path


def _call(server: Any, user: tuple[str, str] | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"authorization": basic(*user)} if user else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=30, **kw)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


@pytest.fixture(scope="module")
def version(server: Any) -> dict[str, str]:
    """A run with model/MLmodel uploaded, registered as version 1; READER may read the model and
    the experiment, STRANGER nothing."""
    experiment = _ok(
        _call(server, ADMIN, "POST", "/api/2.0/mlflow/experiments/create", json={"name": "files"})
    )
    experiment_id = experiment["experiment_id"]
    run = _ok(
        _call(server, ADMIN, "POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    )
    info = run["run"]["info"]
    root = info["artifact_uri"].removeprefix("mlflow-artifacts:")
    put = _call(
        server, ADMIN, "PUT", f"/api/2.0/mlflow-artifacts/artifacts{root}/model/MLmodel", content=MLMODEL
    )
    _ok(put)
    _ok(_call(server, ADMIN, "POST", "/api/2.0/mlflow/registered-models/create", json={"name": MODEL}))
    source = {"name": MODEL, "source": f"runs:/{info['run_id']}/model", "run_id": info["run_id"]}
    _ok(_call(server, ADMIN, "POST", "/api/2.0/mlflow/model-versions/create", json=source))
    for username, password in (READER, STRANGER):
        made = {"username": username, "password": password}
        _ok(_call(server, ADMIN, "POST", "/api/2.0/mlflow/users/create", json=made))
    grant = "/api/3.0/mlflow/users/permissions/grant"
    for kind, resource_id in (("registered_model", MODEL), ("experiment", experiment_id)):
        body = {
            "username": READER[0],
            "resource_type": kind,
            "resource_id": resource_id,
            "permission": "READ",
        }
        _ok(_call(server, ADMIN, "POST", grant, json=body))
    return {"run_id": info["run_id"]}


def test_model_version_file_is_served_to_a_reader_only(server: Any, version: dict[str, str]) -> None:
    params = {"name": MODEL, "version": "1", "path": "MLmodel"}
    path = "/model-versions/get-artifact"
    got = _call(server, READER, "GET", path, params=params)
    assert got.status_code == 200, got.text
    assert got.content == MLMODEL
    assert _call(server, STRANGER, "GET", path, params=params).status_code == 403
    assert _call(server, None, "GET", path, params=params).status_code == 401


def test_run_artifacts_are_listed_for_a_reader_only(server: Any, version: dict[str, str]) -> None:
    params = {"run_id": version["run_id"], "path": "model"}
    listed = _call(server, READER, "GET", "/api/2.0/mlflow/artifacts/list", params=params)
    assert listed.status_code == 200, listed.text
    assert [f["path"] for f in listed.json()["files"]] == ["model/MLmodel"]
    assert _call(server, STRANGER, "GET", "/api/2.0/mlflow/artifacts/list", params=params).status_code == 403
    got = _call(
        server, READER, "GET", "/get-artifact", params={"run_id": version["run_id"], "path": "model/MLmodel"}
    )
    assert got.status_code == 200, got.text
    assert got.content == MLMODEL
