"""The tutorial, as a user runs it with the stock mlflow client (run by .venv-mlflow's python).

    tutorial_client.py seed RESULT.json      autolog a RandomForest fit, log a 4 MiB artifact,
                                              download the model back; write the run id and digests
    tutorial_client.py download RESULT.json  download everything again, several times (so every
                                              artifact replica is asked), and log one more artifact;
                                              exit 1 if any byte differs from the seed
MLFLOW_TRACKING_URI names the server.
"""

import hashlib
import json
import os
import pathlib
import sys
import tempfile

import mlflow
from mlflow import MlflowClient


def digests(root: pathlib.Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def everything(run_id: str) -> dict[str, str]:
    """The run's own artifacts and its logged model (MLflow 3 keeps the model apart from the run)."""
    run_files = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/", dst_path=tempfile.mkdtemp())
    model = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/model", dst_path=tempfile.mkdtemp())
    return {
        **{f"run/{k}": v for k, v in digests(pathlib.Path(run_files)).items()},
        **{f"model/{k}": v for k, v in digests(pathlib.Path(model)).items()},
    }


def seed() -> dict[str, object]:
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import train_test_split

    mlflow.set_experiment("deploy-tutorial")
    mlflow.autolog()
    data = load_diabetes()
    x_train, x_test, y_train, _ = train_test_split(data.data, data.target, random_state=0)
    RandomForestRegressor(n_estimators=20, max_depth=6, max_features=3, random_state=0).fit(x_train, y_train)
    run = mlflow.last_active_run()
    assert run is not None
    blob = pathlib.Path(tempfile.mkdtemp()) / "blob.bin"
    blob.write_bytes(os.urandom(4 * 1024 * 1024))
    MlflowClient().log_artifact(run.info.run_id, str(blob), "data")
    files = everything(run.info.run_id)
    assert {"model/MLmodel", "model/model.pkl", "run/data/blob.bin"} <= set(files), sorted(files)
    loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    return {"run_id": run.info.run_id, "files": files, "predicts": len(loaded.predict(x_test))}


def download(expected: dict[str, object]) -> dict[str, object]:
    run_id = str(expected["run_id"])
    rounds = [everything(run_id) == expected["files"] for _ in range(4)]
    note = pathlib.Path(tempfile.mkdtemp()) / "after-stop.txt"
    note.write_text("logged with one artifact replica down\n")
    MlflowClient().log_artifact(run_id, str(note))
    back = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/after-stop.txt", dst_path=tempfile.mkdtemp())
    return {
        "run_id": run_id,
        "rounds_equal": rounds,
        "upload_roundtrip": pathlib.Path(back).read_text() == note.read_text(),
    }


def main() -> int:
    phase, result_path = sys.argv[1], pathlib.Path(sys.argv[2])
    if phase == "seed":
        result = seed()
        ok = True
    else:
        result = download(json.loads(result_path.with_name("seed.json").read_text()))
        ok = all(result["rounds_equal"]) and bool(result["upload_roundtrip"])  # type: ignore[arg-type]
    result_path.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "files"}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
