"""What the import tests (and bench/import_bench.py) put in a real `mlflow server` with the stock
client: the tutorial's autologged RandomForest run with its model and a blob artifact, a run with
a long metric history, a deleted run, a deleted experiment, and the registry (a registered model,
two versions, an alias, tags). Runs as a script of .venv-mlflow (``emit`` is predefined there)."""

SEED = """
import os, tempfile, pathlib, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split

POINTS = int(os.environ["SEED_POINTS"])
BLOB = int(os.environ["SEED_BLOB_BYTES"])
client = MlflowClient()

mlflow.set_experiment("tutorial")
mlflow.autolog()
data = load_diabetes()
x_train, x_test, y_train, _ = train_test_split(data.data, data.target, random_state=0)
RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(x_train, y_train)
mlflow.autolog(disable=True)
tutorial = mlflow.last_active_run()
blob = pathlib.Path(tempfile.mkdtemp()) / "blob.bin"
blob.write_bytes(os.urandom(BLOB))
client.log_artifact(tutorial.info.run_id, str(blob), "data")

with mlflow.start_run(run_name="long-history") as run:
    long_id = run.info.run_id
    mlflow.log_params({"lr": "0.01", "layers": "4"})
    mlflow.set_tag("team", "vision")
    base = int(time.time() * 1000)
    for start in range(0, POINTS, 1000):
        client.log_batch(long_id, metrics=[
            Metric("loss", 1.0 / (i + 1), base + i, i) for i in range(start, min(start + 1000, POINTS))
        ])
    mlflow.log_text("notes", "notes/readme.txt")

with mlflow.start_run(run_name="gone") as run:
    mlflow.log_metric("x", 1.0)
client.delete_run(run.info.run_id)

old = client.create_experiment("old-experiment", tags={"kept": "no"})
client.create_run(old)
client.delete_experiment(old)

model = mlflow.last_logged_model() or client.search_logged_models([tutorial.info.experiment_id])[0]
client.create_registered_model("tutorial-model", tags={"owner": "ops"}, description="the tutorial")
v1 = client.create_model_version(
    "tutorial-model", f"models:/{model.model_id}", run_id=tutorial.info.run_id, model_id=model.model_id
)
v2 = client.create_model_version(
    "tutorial-model", f"runs:/{long_id}/notes", run_id=long_id, tags={"stage": "try"}
)
client.set_registered_model_alias("tutorial-model", "champion", v1.version)
emit({"tutorial": tutorial.info.run_id, "long": long_id, "model_id": model.model_id})
"""
