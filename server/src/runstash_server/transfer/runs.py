"""One run copied: its record (kept active while its history is written), full metric histories
through the bulk log-batch path, inputs and outputs, artifacts, then its final state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runstash_server.transfer.artifacts import Copied, copy_tree, proxied_path
from runstash_server.transfer.rest import Rest

IMPORT = "/api/2.0/runstash/import"
HISTORY_PAGE = 25_000
LOG_BATCH = 1000
_METRIC_FIELDS = ("key", "value", "timestamp", "step", "model_id", "dataset_name", "dataset_digest")


def import_run_body(run: dict[str, Any], *, final: bool) -> dict[str, Any]:
    info = dict(run["info"])
    data = run.get("data", {})
    body: dict[str, Any] = {"info": info, "params": data.get("params", []), "tags": data.get("tags", [])}
    if not final:
        info["lifecycle_stage"] = "active"
    elif info.get("lifecycle_stage") == "deleted":
        # MLflow's REST does not show when a run was deleted: the import is the deletion time gc sees.
        body["deleted_time"] = int(time.time() * 1000)
    return body


def _history(src: Rest, run_id: str, key: str) -> Iterator[list[dict[str, Any]]]:
    token = None
    while True:
        params: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
        if token:
            params["page_token"] = token
        page = src.get("/metrics/get-history", **params)
        yield [{f: m[f] for f in _METRIC_FIELDS if f in m} for m in page.get("metrics", [])]
        token = page.get("next_page_token")
        if not token:
            return


class RunCopier:
    """Copies runs from ``src`` to ``dst``; log-batch requests go out several at once."""

    def __init__(self, src: Rest, dst: Rest, parallel: int = 4) -> None:
        self.src, self.dst = src, dst
        self._pool = ThreadPoolExecutor(parallel, thread_name_prefix="import-batches")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def metric_points(self, run_id: str, keys: list[str]) -> int:
        sent = 0
        for key in keys:
            for page in _history(self.src, run_id, key):
                batches = [page[i : i + LOG_BATCH] for i in range(0, len(page), LOG_BATCH)]
                body = [{"run_id": run_id, "metrics": batch} for batch in batches]
                for future in [self._pool.submit(self.dst.post, "/runs/log-batch", b) for b in body]:
                    future.result()
                sent += len(page)
        return sent

    def inputs_outputs(self, run: dict[str, Any]) -> None:
        run_id = run["info"]["run_id"]
        inputs = run.get("inputs", {})
        datasets = inputs.get("dataset_inputs", [])
        models = [{"model_id": m["model_id"]} for m in inputs.get("model_inputs", [])]
        if datasets or models:
            self.dst.post("/runs/log-inputs", {"run_id": run_id, "datasets": datasets, "models": models})
        outputs = run.get("outputs", {}).get("model_outputs", [])
        if outputs:
            self.dst.post("/runs/outputs", {"run_id": run_id, "models": outputs})

    def copy(self, run: dict[str, Any]) -> tuple[int, Copied]:
        """(metric points written, artifacts copied) of one run."""
        self.dst.post("/run", import_run_body(run, final=False), prefix=IMPORT)
        keys = sorted({m["key"] for m in run.get("data", {}).get("metrics", [])})
        points = self.metric_points(run["info"]["run_id"], keys)
        self.inputs_outputs(run)
        rel = proxied_path(run["info"].get("artifact_uri", ""))
        copied = copy_tree(self.src, self.dst, rel) if rel else Copied()
        self.dst.post("/run", import_run_body(run, final=True), prefix=IMPORT)
        return points, copied
