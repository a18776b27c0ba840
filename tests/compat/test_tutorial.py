"""The tutorial flow with the stock client (tutorial-trace.md §1-§3): autolog + scikit-learn fit
and predict, the logged model, `download_artifacts("runs:/<id>/model")`, load_model + predict,
on SQLite + local disk and PostgreSQL + S3 (SeaweedFS) through the artifact proxy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import MlflowClientRunner, RunningServer, S3Endpoint

SCRIPT = """
import os, pathlib, tempfile, uuid
import numpy as np
import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split

c = MlflowClient()
exp_name = "tutorial-" + uuid.uuid4().hex[:8]
mlflow.set_experiment(exp_name)

mlflow.autolog()
db = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(db.data, db.target, random_state=0)
rf = RandomForestRegressor(n_estimators=20, max_depth=6, max_features=3, random_state=0)
rf.fit(X_train, y_train)
predictions = rf.predict(X_test)
run = mlflow.last_active_run()
rid = run.info.run_id

out = {}
r = c.get_run(rid)
out["run"] = {
    "status": r.info.status,
    "params": {k: r.data.params.get(k)
               for k in ("max_depth", "n_estimators", "max_features", "bootstrap")},
    "metric_keys": sorted(k for k in r.data.metrics if k.startswith("training_")),
    "r2_positive": r.data.metrics.get("training_r2_score", 0) > 0,
    "autolog_tag": r.data.tags.get("mlflow.autologging"),
    "dataset_contexts": sorted(
        t.value for d in r.inputs.dataset_inputs for t in d.tags if t.key == "mlflow.data.context"
    ),
    "n_model_outputs": len(r.outputs.model_outputs) if r.outputs else 0,
}
out["run_artifacts"] = sorted(f.path for f in c.list_artifacts(rid))

models = mlflow.search_logged_models(
    experiment_ids=[run.info.experiment_id], filter_string="name = 'model'", output_format="list"
)
out["logged_models"] = [
    {
        "name": m.name,
        "status": str(getattr(m.status, "value", m.status)),
        "source_run": m.source_run_id == rid,
        "params_max_depth": m.params.get("max_depth"),
    }
    for m in models
]
model_id = models[0].model_id if models else None
if model_id:
    lm = mlflow.get_logged_model(model_id)
    out["logged_model_artifact_location"] = lm.artifact_location
    out["model_outputs_match"] = [o.model_id for o in r.outputs.model_outputs] == [model_id]

local = mlflow.artifacts.download_artifacts(f"runs:/{rid}/model", dst_path=tempfile.mkdtemp())
out["downloaded"] = sorted(p.name for p in pathlib.Path(local).iterdir())
loaded = mlflow.sklearn.load_model(local)
out["local_predict_equal"] = bool(np.allclose(loaded.predict(X_test), predictions))
direct = mlflow.sklearn.load_model(f"runs:/{rid}/model")
out["runs_uri_predict_equal"] = bool(np.allclose(direct.predict(X_test), predictions))
pyfunc = mlflow.pyfunc.load_model(f"models:/{model_id}")
out["models_uri_predict_equal"] = bool(np.allclose(pyfunc.predict(X_test), predictions))
out["odd_form"] = error_of(mlflow.artifacts.download_artifacts, f"runs://{rid}/model")
out["run_id"] = rid
out["experiment_id"] = run.info.experiment_id
out["model_id"] = model_id
emit(out)
"""


def test_tutorial_autolog_model_roundtrip(
    artifact_server: tuple[RunningServer, S3Endpoint | None, str], mlflow_client: MlflowClientRunner
) -> None:
    server, s3, destination = artifact_server
    out: dict[str, Any] = mlflow_client.run(SCRIPT, server.url, timeout=300)

    run = out["run"]
    assert run["status"] == "FINISHED"
    assert run["params"] == {"max_depth": "6", "n_estimators": "20", "max_features": "3", "bootstrap": "True"}
    for key in ("training_mean_squared_error", "training_r2_score", "training_score"):
        assert key in run["metric_keys"]
    assert run["r2_positive"] is True
    assert run["autolog_tag"] == "sklearn"
    assert run["dataset_contexts"] == ["eval", "train"]
    assert run["n_model_outputs"] == 1
    assert "estimator.html" in out["run_artifacts"]

    assert out["logged_models"] == [
        {"name": "model", "status": "READY", "source_run": True, "params_max_depth": "6"}
    ]
    assert out["model_outputs_match"] is True
    exp_id, model_id = out["experiment_id"], out["model_id"]
    assert out["logged_model_artifact_location"] == f"mlflow-artifacts:/{exp_id}/models/{model_id}/artifacts"

    assert {"MLmodel", "model.pkl", "conda.yaml", "python_env.yaml", "requirements.txt"} <= set(
        out["downloaded"]
    )
    assert out["local_predict_equal"] is True
    assert out["runs_uri_predict_equal"] is True
    assert out["models_uri_predict_equal"] is True
    # `runs://` is rejected by the client itself before any request (tutorial-trace.md §3)
    assert out["odd_form"] is not None and "Not a proper runs:/ URI" in out["odd_form"]["message"]

    model_prefix = f"{exp_id}/models/{model_id}/artifacts/"
    if s3 is not None:
        prefix = destination.removeprefix(f"s3://{s3.bucket}/").rstrip("/") + "/" + model_prefix
        listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
        keys = {obj["Key"].removeprefix(prefix) for obj in listed.get("Contents", [])}
        assert {"MLmodel", "model.pkl"} <= keys
    else:
        from pathlib import Path

        assert (Path(destination) / model_prefix / "model.pkl").stat().st_size > 1000
