"""Seed a tracking server through the stock mlflow client for the browser tests.

Usage: python seed.py <tracking-uri>   (prints one JSON line with the ids it created;
the client's own "View run ... at: <url>" lines go to its log output as usual).
"""

import json
import math
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import Metric


def tiny_png(width: int = 16, height: int = 16) -> bytes:
    """A red/blue gradient PNG written by hand, so no imaging library is needed."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 16, 40, 255 - y * 16)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def write_artifacts(folder: Path, lr: float) -> None:
    (folder / "notes.txt").write_text(f"learning rate {lr}\n<script>alert('x')</script>\n")
    (folder / "config").mkdir()
    (folder / "config" / "params.json").write_text(json.dumps({"lr": lr, "layers": [64, 32]}))
    (folder / "config" / "settings.yaml").write_text(f"lr: {lr}\noptimizer: adam\n")
    (folder / "predictions.csv").write_text('id,label,score\n1,cat,0.91\n2,"dog, big",0.42\n')
    (folder / "plot.png").write_bytes(tiny_png())


def main() -> None:
    mlflow.set_tracking_uri(sys.argv[1])
    experiment_id = mlflow.set_experiment(f"ui-e2e-{int(time.time() * 1000)}").experiment_id
    runs = []
    for index, (lr, model) in enumerate([(0.1, "tree"), (0.01, "forest"), (0.001, "forest")]):
        with mlflow.start_run(run_name=f"run-{model}-{index}") as run:
            mlflow.log_params({"lr": lr, "model": model, "depth": 3 + index})
            now = int(time.time() * 1000)
            history = [
                Metric("loss", math.exp(-lr * 10 * step) + 0.01 * index, now + step * 1000, step)
                for step in range(50)
            ]
            mlflow.MlflowClient().log_batch(run.info.run_id, metrics=history)
            mlflow.log_metric("accuracy", 0.7 + 0.1 * index)
            mlflow.set_tags({"team": "vision" if index % 2 == 0 else "nlp"})
            mlflow.set_tag("mlflow.note.content", f"# Run {index}\n\nTrained with **lr={lr}**. <b>not bold</b>")
            features = np.arange(12, dtype=float).reshape(4, 3) * (index + 1)
            mlflow.log_input(mlflow.data.from_numpy(features, name=f"features-{index}"), context="training")
            with tempfile.TemporaryDirectory() as tmp:
                write_artifacts(Path(tmp), lr)
                mlflow.log_artifacts(tmp)
            model = mlflow.initialize_logged_model(name=f"model-{index}", source_run_id=run.info.run_id)
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / "MLmodel").write_text(f"model_id: {model.model_id}\nflavors:\n  python_function: {{}}\n")
                (Path(tmp) / "conda.yaml").write_text("dependencies:\n- python=3.11\n")
                mlflow.MlflowClient().log_model_artifacts(model.model_id, tmp)
            mlflow.finalize_logged_model(model.model_id, "READY")
            runs.append(run.info.run_id)
    print(json.dumps({"experiment_id": experiment_id, "run_ids": runs}), flush=True)


if __name__ == "__main__":
    main()
