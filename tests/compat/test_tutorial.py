"""The tutorial flow with the stock client (tutorial-trace.md §1-§3): autolog + scikit-learn fit
and predict, the logged model, `download_artifacts("runs:/<id>/model")`, load_model + predict,
on SQLite + local disk and PostgreSQL + S3 (SeaweedFS) through the artifact proxy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.compat.scripts import section

if TYPE_CHECKING:
    from tests.conftest import RunningServer, S3Endpoint


@pytest.mark.timeout(900)
def test_tutorial_autolog_model_roundtrip(
    artifact_server: tuple[RunningServer, S3Endpoint | None, str], artifact_results: dict[str, Any]
) -> None:
    _server, s3, destination = artifact_server
    out: dict[str, Any] = section(artifact_results, "tutorial")

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
