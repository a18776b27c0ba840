"""The stock mlflow client over ``runstash://`` (the plugin) gives what it gives over REST.

One script runs twice against the same server: with the stock client over http (``.venv-mlflow``)
and with the plugin over gRPC (``.venv-mlflow-plugin``); the results, ids aside, must be equal.
It covers the fluent API, MlflowClient, async logging, autolog, artifacts both ways, log_model /
load_model, search_runs and error codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.client.conftest import GrpcServer
from tests.client.plugin_venv import PluginClientRunner

if TYPE_CHECKING:
    from tests.conftest import MlflowClientRunner

pytestmark = pytest.mark.mlflow_client

SCRIPT = """
import os, tempfile
import mlflow, numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression

prefix = os.environ["PREFIX"]
client = MlflowClient()
mlflow.set_experiment(prefix + "-plugin")
X = np.arange(20, dtype=float).reshape(10, 2)
y = X @ np.array([1.5, -2.0]) + 3.0
out = {}

with mlflow.start_run(run_name="fluent") as run:
    mlflow.log_params({"lr": 0.01, "layers": 3})
    mlflow.set_tags({"team": "vision", "empty": ""})
    for step in range(300):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1000 + step)
    for step in range(200):
        mlflow.log_metric("async_loss", step * 0.5, step=step, timestamp=2000 + step, synchronous=False)
    mlflow.log_metrics({"nan": float("nan"), "inf": float("inf")}, step=1, timestamp=5)
    mlflow.log_dict({"a": 1}, "cfg/config.json")
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "big.bin"), "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 17))
    os.makedirs(os.path.join(d, "nested", "deep"))
    with open(os.path.join(d, "nested", "deep", "n.txt"), "w") as f:
        f.write("nested")
    mlflow.log_artifacts(d, "dir")
    mlflow.log_artifact(os.path.join(d, "big.bin"))
    model = LinearRegression().fit(X, y)
    info = mlflow.sklearn.log_model(model, name="model", input_example=X[:2])
mlflow.flush_async_logging()

r = client.get_run(run.info.run_id)
out["params"] = r.data.params
out["metrics"] = r.data.metrics
out["tags"] = {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")}
out["status"] = r.info.status
out["history"] = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")][-3:]
out["async_points"] = len(client.get_metric_history(run.info.run_id, "async_loss"))
def listing(path=None):
    return sorted((f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run.info.run_id, path))
out["root"] = listing()
out["dir"] = listing("dir/nested")
local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="dir")
out["downloaded"] = sorted(
    os.path.relpath(os.path.join(p, n), local) for p, _, names in os.walk(local) for n in names
)
with open(os.path.join(local, "big.bin"), "rb") as f:
    out["big_size"] = len(f.read())
loaded = mlflow.pyfunc.load_model(info.model_uri)
out["predictions"] = [round(float(v), 6) for v in loaded.predict(X[:3])]
out["model_artifacts"] = sorted(f.path for f in client.list_artifacts(run.info.run_id))

mlflow.sklearn.autolog()
with mlflow.start_run(run_name="autolog") as auto:
    LinearRegression().fit(X, y)
mlflow.sklearn.autolog(disable=True)
a = client.get_run(auto.info.run_id)
out["autolog_params"] = sorted(a.data.params)
out["autolog_metrics"] = sorted(a.data.metrics)

found = mlflow.search_runs(
    experiment_names=[prefix + "-plugin"], filter_string="params.lr = '0.01'", order_by=["start_time DESC"]
)
out["search"] = list(found["tags.mlflow.runName"])
out["search_all"] = sorted(r.info.run_name for r in client.search_runs(
    [mlflow.get_experiment_by_name(prefix + "-plugin").experiment_id], max_results=1))
out["missing_run"] = error_of(client.get_run, "0" * 32)
out["bad_param"] = error_of(client.log_param, run.info.run_id, "lr", "0.5", synchronous=True)
pending = client.log_param(run.info.run_id, "lr", "0.7", synchronous=False)
out["async_error_at_wait"] = error_of(pending.wait)
out["missing_experiment"] = error_of(client.get_experiment, "987654")
emit(out)
"""


def _without_messages(result: dict[str, Any]) -> dict[str, Any]:
    # Error messages name the run/experiment ids, which differ between the two runs.
    return {
        k: (v["error_code"] if isinstance(v, dict) and "error_code" in v else v) for k, v in result.items()
    }


@pytest.mark.timeout(900)  # two stock-client processes with sklearn on a shared, busy machine
def test_plugin_matches_rest(
    grpc_server: GrpcServer, plugin_client: PluginClientRunner, mlflow_client: MlflowClientRunner
) -> None:
    rest_env = {"PREFIX": "rest", "MLFLOW_ENABLE_ASYNC_LOGGING": "true"}
    over_rest = mlflow_client.run(SCRIPT, grpc_server.http_url, env=rest_env, timeout=300)
    over_grpc = plugin_client.run(
        SCRIPT,
        grpc_server.runstash_uri,
        env={"PREFIX": "grpc", "MLFLOW_ENABLE_ASYNC_LOGGING": "true"},
        timeout=300,
    )
    assert over_grpc["async_points"] == 200
    assert over_grpc["big_size"] == 3 * 1024 * 1024 + 17
    assert over_grpc["missing_run"]["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "Changing param values is not allowed" in over_grpc["async_error_at_wait"]["message"]
    assert _without_messages(over_grpc) == _without_messages(over_rest)
