"""Seed the explorer browser tests through the stock mlflow client.

Usage: python seed_explorer.py <tracking-uri>   (prints one JSON line with the ids it created).
Three experiments: `explorer` (6 finished runs in two groups with histories, a single-value
metric, images, HTML, JSON and Parquet table artifacts, a typed logged model), and `live` (one RUNNING run).
"""

import json
import math
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Metric

ESTIMATOR_HTML = "<html><body><h2 id='estimator'>RandomForestRegressor(max_depth=3)</h2></body></html>\n"


def explorer(stamp: int) -> dict[str, object]:
    experiment_id = mlflow.set_experiment(f"explorer-{stamp}").experiment_id
    client = mlflow.MlflowClient()
    mlflow.set_experiment_tag("mlflow.note.content", "Seeds **explorer** runs for the chart view.")
    mlflow.set_experiment_tag("owner", "ui-tests")
    run_ids = []
    for index in range(6):
        group = "a" if index < 3 else "b"
        with mlflow.start_run(run_name=f"seed-{index}") as run:
            mlflow.log_params({"optimizer": group, "lr": 0.1 * (1 + index % 3), "seed": index})
            now = int(time.time() * 1000)
            score = [Metric("score", (1 if group == "a" else 5) + index * 0.5 + step * (0.1 + index * 0.05), now + step * 1000, step) for step in range(10)]
            train = [Metric("train/loss", math.exp(-0.3 * step) + 0.05 * index, now + step * 1000, step) for step in range(10)]
            val = [Metric("val/loss", math.exp(-0.2 * step) + 0.07 * index, now + step * 1000, step) for step in range(10)]
            client.log_batch(run.info.run_id, metrics=score + train + val)
            mlflow.log_metric("final_acc", 0.5 + 0.08 * index)
            mlflow.log_input(mlflow.data.from_numpy(np.arange(6.0).reshape(2, 3), name="digits"), context="training")
            if index in (0, 3):
                for step in range(3):
                    pixels = np.zeros((8, 8, 3), dtype=np.uint8)
                    pixels[:, :, 0] = 60 * step + 40 * index
                    pixels[:, : step + 2, 2] = 255
                    mlflow.log_image(pixels, key="samples/input", step=step)
            if index == 0:
                with tempfile.TemporaryDirectory() as tmp:
                    (Path(tmp) / "estimator.html").write_text(ESTIMATOR_HTML)
                    (Path(tmp) / "table.json").write_text(json.dumps({"columns": ["feature", "weight"], "data": [["x1", 0.25], ["x2", 0.75]]}))
                    # 300 rows in row groups of 100: the preview reads the first 100 rows only.
                    frame = pd.DataFrame({"id": np.arange(300, dtype=np.int64), "score": np.arange(300) / 4, "label": [f"row-{i}" for i in range(300)]})
                    frame.to_parquet(Path(tmp) / "predictions.parquet", engine="pyarrow", row_group_size=100)
                    mlflow.log_artifacts(tmp)
                model = mlflow.initialize_logged_model(name="forest", source_run_id=run.info.run_id, model_type="regressor", params={"max_depth": "3"})
                mlflow.finalize_logged_model(model.model_id, "READY")
                client.log_metric(run.info.run_id, "rmse", 0.42, model_id=model.model_id)
            run_ids.append(run.info.run_id)
    return {"experiment_id": experiment_id, "run_ids": run_ids}


def live(stamp: int) -> dict[str, object]:
    experiment_id = mlflow.set_experiment(f"live-{stamp}").experiment_id
    client = mlflow.MlflowClient()
    run = client.create_run(experiment_id, run_name="still-training")
    now = int(time.time() * 1000)
    client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (1 + step), now + step, step) for step in range(5)])
    return {"experiment_id": experiment_id, "run_id": run.info.run_id}


def main() -> None:
    mlflow.set_tracking_uri(sys.argv[1])
    stamp = int(time.time() * 1000)
    print(json.dumps({"explorer": explorer(stamp), "live": live(stamp)}), flush=True)


if __name__ == "__main__":
    main()
