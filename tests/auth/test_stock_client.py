"""The stock mlflow client against runstash with auth on: the tutorial with a password and with an
access token, and a READ user's writes refused with MLflow's statuses (401 without credentials,
403 without permission)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.auth.stack import basic

pytestmark = pytest.mark.mlflow_client

ADMIN = ("admin", "admin-password-123")
READER = ("reader", "reader-password-123")
WRITER = ("writer", "writer-password-123")

TUTORIAL = """
import mlflow
from mlflow import MlflowClient
mlflow.set_experiment("auth-tutorial-" + TAG)
with mlflow.start_run() as run:
    mlflow.log_params({"lr": 0.01, "layers": 3})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    with open("model.txt", "w") as f:
        f.write("weights")
    mlflow.log_artifact("model.txt", artifact_path="model")
found = mlflow.search_runs(experiment_names=["auth-tutorial-" + TAG], output_format="list")
path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="model/model.txt")
emit({
    "run_id": run.info.run_id,
    "experiment_id": run.info.experiment_id,
    "found": [r.info.run_id for r in found],
    "history": [m.value for m in MlflowClient().get_metric_history(run.info.run_id, "loss")],
    "artifact": open(path).read(),
})
"""


@pytest.fixture(scope="module")
def server(
    database_factory: Any, db_kind: str, deployment: str, server_launcher: Any, tmp_path_factory: Any
) -> Iterator[Any]:
    db = database_factory.create(db_kind)
    env = {
        "RUNSTASH_AUTH": "true",
        "RUNSTASH_SERVICE_CREDENTIAL": "test-service-credential",  # gateway <-> services
        "MLFLOW_AUTH_ADMIN_USERNAME": ADMIN[0],
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1],
    }
    running = server_launcher.launch(
        deployment, db.uri, str(tmp_path_factory.mktemp("auth-artifacts")), env=env, label=f"auth-{db_kind}"
    )
    admin = {"authorization": basic(*ADMIN)}
    for username, password in (READER, WRITER):
        made = httpx.post(
            running.url + "/api/2.0/mlflow/users/create",
            json={"username": username, "password": password},
            headers=admin,
        )
        assert made.status_code == 200, made.text
    yield running
    server_launcher.stop(running)


def _credentials(user: tuple[str, str]) -> dict[str, str]:
    return {"MLFLOW_TRACKING_USERNAME": user[0], "MLFLOW_TRACKING_PASSWORD": user[1]}


def test_tutorial_with_password_then_with_token(server: Any, mlflow_client: Any) -> None:
    done = mlflow_client.run("TAG = 'password'\n" + TUTORIAL, server.url, env=_credentials(WRITER))
    assert done["found"] == [done["run_id"]]
    assert done["history"] == [1.0, 0.5, 1.0 / 3, 0.25, 0.2]
    assert done["artifact"] == "weights"

    made = httpx.post(
        server.url + "/api/2.0/mlflow/users/tokens/create",
        json={"name": "ci"},
        headers={"authorization": basic(*WRITER)},
    )
    token = made.json()["secret"]
    done = mlflow_client.run("TAG = 'token'\n" + TUTORIAL, server.url, env={"MLFLOW_TRACKING_TOKEN": token})
    assert done["artifact"] == "weights" and done["found"] == [done["run_id"]]


def test_read_user_is_refused_writes_with_mlflows_codes(server: Any, mlflow_client: Any) -> None:
    made = mlflow_client.run("TAG = 'shared'\n" + TUTORIAL, server.url, env=_credentials(WRITER))
    granted = httpx.post(
        server.url + "/api/3.0/mlflow/users/permissions/grant",
        json={"username": READER[0], "resource_type": "experiment", "resource_id": made["experiment_id"],
              "permission": "READ"},
        headers={"authorization": basic(*WRITER)},  # the creator holds MANAGE
    )  # fmt: skip
    assert granted.status_code == 200, granted.text
    script = f"""
    import mlflow
    from mlflow import MlflowClient
    client = MlflowClient()
    run_id = {made["run_id"]!r}
    with open("extra.txt", "w") as f:
        f.write("x")

    def status(fn):
        try:
            fn()
        except Exception as error:
            return [getattr(error, "error_code", None), str(error)]
        return None

    emit({{
        "read": client.get_run(run_id).data.params,
        "log": status(lambda: client.log_metric(run_id, "loss", 9.0)),
        "delete": status(lambda: client.delete_run(run_id)),
        "upload": status(lambda: client.log_artifact(run_id, "extra.txt")),
    }})
    """
    seen = mlflow_client.run(script, server.url, env=_credentials(READER))
    assert seen["read"] == {"lr": "0.01", "layers": "3"}
    assert seen["log"][0] == "PERMISSION_DENIED" and "403" in seen["log"][1]
    assert seen["delete"][0] == "PERMISSION_DENIED" and "403" in seen["delete"][1]
    assert "403" in seen["upload"][1]

    anonymous = mlflow_client.run(
        f"import mlflow\nemit(error_of(mlflow.MlflowClient().get_run, {made['run_id']!r}))", server.url
    )
    assert "401" in str(anonymous)
