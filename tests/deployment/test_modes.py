"""The artifact modes of `mlflow server`, as runstash serves them.

- proxied (default): runs get `mlflow-artifacts:/...` locations and bytes flow through the server;
- `--no-serve-artifacts --default-artifact-root s3://...`: runs get direct `s3://` locations, the
  stock client writes to S3 with its own credentials, and the proxy routes answer 503;
- `--artifacts-only`: only the artifact routes are served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, MlflowClientRunner, S3Endpoint, ServerLauncher

JSON = {"Content-Type": "application/json"}


def test_proxied_mode_assigns_mlflow_artifacts_locations(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = server_launcher.single(
        database_factory.create("sqlite").uri, str(tmp_path_factory.mktemp("proxied")), label="proxied"
    )
    with httpx.Client(base_url=server.url) as http:
        exp = http.post("/api/2.0/mlflow/experiments/create", json={"name": "p"}, headers=JSON).json()
        run = http.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": exp["experiment_id"]}, headers=JSON
        ).json()["run"]
        assert run["info"]["artifact_uri"] == (
            f"mlflow-artifacts:/{exp['experiment_id']}/{run['info']['run_id']}/artifacts"
        )
        info = http.get("/api/3.0/mlflow/server-info").json()
        assert info["artifact_serving_enabled"] is True
    server_launcher.stop(server)


@pytest.mark.s3
@pytest.mark.mlflow_client
def test_no_serve_artifacts_gives_direct_s3_locations_written_by_the_client(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
    s3_endpoint: S3Endpoint,
    mlflow_client: MlflowClientRunner,
) -> None:
    root = s3_endpoint.destination("direct-root")
    server = server_launcher.single(
        database_factory.create("sqlite").uri,
        str(tmp_path_factory.mktemp("unused")),
        extra_args=["--no-serve-artifacts", "--default-artifact-root", root],
        env=s3_endpoint.env(),  # the UI's run-scoped artifact routes read the runs' S3 root
        label="no-serve",
    )
    with httpx.Client(base_url=server.url) as http:
        put = http.put("/api/2.0/mlflow-artifacts/artifacts/0/x.txt", content=b"x")
        assert put.status_code == 503
        assert "--no-serve-artifacts" in put.text
        assert http.get("/api/3.0/mlflow/server-info").json()["artifact_serving_enabled"] is False

    seen = mlflow_client.run(
        """
        import mlflow, pathlib
        mlflow.set_experiment("direct")
        with mlflow.start_run() as run:
            p = pathlib.Path("note.txt"); p.write_text("straight to s3")
            mlflow.log_artifact(str(p), artifact_path="docs")
        exp = mlflow.get_experiment_by_name("direct")
        emit({"location": exp.artifact_location, "artifact_uri": run.info.artifact_uri,
              "run_id": run.info.run_id, "experiment_id": exp.experiment_id})
        """,
        server.url,
        env=s3_endpoint.env(),
    )
    assert seen["location"] == f"{root}/{seen['experiment_id']}"
    assert seen["artifact_uri"] == f"{root}/{seen['experiment_id']}/{seen['run_id']}/artifacts"
    key = f"direct-root/{seen['experiment_id']}/{seen['run_id']}/artifacts/docs/note.txt"
    body = s3_endpoint.client().get_object(Bucket=s3_endpoint.bucket, Key=key)["Body"].read()
    assert body == b"straight to s3"
    # The proxy is off, but the UI's run-scoped routes still read the run's own S3 root.
    with httpx.Client(base_url=server.url) as http:
        listing = http.get("/ajax-api/2.0/mlflow/artifacts/list", params={"run_id": seen["run_id"]}).json()
        assert listing["root_uri"] == seen["artifact_uri"]
        assert [f["path"] for f in listing["files"]] == ["docs"]
        note = http.get("/get-artifact", params={"run_id": seen["run_id"], "path": "docs/note.txt"})
        assert note.status_code == 200 and note.content == b"straight to s3"
    server_launcher.stop(server)


def test_artifacts_only_serves_artifacts_and_refuses_tracking(
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    destination = tmp_path_factory.mktemp("artifacts-only")
    server = server_launcher.single(
        database_factory.create("sqlite").uri,
        str(destination),
        extra_args=["--artifacts-only"],
        label="art-only",
    )
    with httpx.Client(base_url=server.url) as http:
        refused = http.post("/api/2.0/mlflow/experiments/create", json={"name": "x"}, headers=JSON)
        assert refused.status_code == 503
        assert "--artifacts-only" in refused.text
        assert http.put("/api/2.0/mlflow-artifacts/artifacts/a/b.bin", content=b"\x00\x01").status_code == 200
        assert http.get("/api/2.0/mlflow-artifacts/artifacts/a/b.bin").content == b"\x00\x01"
        listing = http.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": "a"}).json()
        assert listing == {"files": [{"path": "b.bin", "is_dir": False, "file_size": 2}]}
    assert (destination / "a" / "b.bin").read_bytes() == b"\x00\x01"
    server_launcher.stop(server)
