"""Seed a tracking server's model registry through the stock mlflow client for registry.test.mjs.

Usage: python seed_registry.py <tracking-uri>   (prints one JSON line with what it created)

A run with a model folder (`model/MLmodel`) and a logged model; the registered model `e2e-model`
with version 1 from the logged model and version 2 from the run folder, alias `champion`, tags,
a description; and 150 more registered models, so the Models page has to scroll.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import mlflow
from mlflow import MlflowClient

BULK = 150


def model_files(folder: Path, label: str) -> None:
    (folder / "MLmodel").write_text(f"artifact_path: model\nflavors:\n  python_function: {{}}\nlabel: {label}\n")
    (folder / "requirements.txt").write_text("scikit-learn\n")


def main() -> None:
    mlflow.set_tracking_uri(sys.argv[1])
    client = MlflowClient()
    stamp = int(time.time() * 1000)
    experiment_id = mlflow.set_experiment(f"registry-e2e-{stamp}").experiment_id
    with mlflow.start_run(run_name="trainer") as run:
        mlflow.log_param("alpha", 0.5)
        with tempfile.TemporaryDirectory() as tmp:
            model_files(Path(tmp), "folder")
            mlflow.log_artifacts(tmp, artifact_path="model")
        logged = mlflow.initialize_logged_model(name="clf", source_run_id=run.info.run_id)
        with tempfile.TemporaryDirectory() as tmp:
            model_files(Path(tmp), "logged")
            client.log_model_artifacts(logged.model_id, tmp)
        mlflow.finalize_logged_model(logged.model_id, "READY")
    run_id = run.info.run_id

    name = "e2e-model"
    client.create_registered_model(name, tags={"team": "vision"}, description="# E2E model\n\nServes **tests**.")
    v1 = client.create_model_version(name, f"models:/{logged.model_id}", run_id=run_id, model_id=logged.model_id)
    v2 = client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(name, "champion", v1.version)
    client.set_model_version_tag(name, v1.version, "validated", "yes")
    for index in range(BULK):
        client.create_registered_model(f"bulk-{index:03d}")
    print(
        json.dumps(
            {
                "experiment_id": experiment_id,
                "run_id": run_id,
                "model_id": logged.model_id,
                "name": name,
                "versions": [v1.version, v2.version],
                "v2_source": v2.source,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
