"""One run copied: its record (kept active while its history is written), full metric histories
(each page of the source written while the next one is read, several writes in flight), inputs
and outputs, artifacts, then its final state."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from runstash_server.transfer.artifacts import Copied, copy_tree, proxied_path
from runstash_server.transfer.source import Source
from runstash_server.transfer.target import Target

CHUNK_POINTS = 25_000  # points per write: big enough to amortise a request, small enough to stream


class RunCopier:
    def __init__(self, src: Source, dst: Target, parallel: int = 3) -> None:
        self.src, self.dst = src, dst
        self.parallel = parallel
        self._pool = ThreadPoolExecutor(parallel, thread_name_prefix="import-writes")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def metric_points(self, run_id: str, keys: list[str]) -> int:
        sent = 0
        pending: deque[Future[None]] = deque()
        try:
            for key in keys:
                for page in self.src.history(run_id, key):
                    for i in range(0, len(page), CHUNK_POINTS):
                        if len(pending) >= self.parallel:
                            pending.popleft().result()
                        chunk = page[i : i + CHUNK_POINTS]
                        pending.append(self._pool.submit(self.dst.metrics, run_id, key, chunk))
                        sent += len(chunk)
        finally:
            while pending:  # every write settles (and its error surfaces) before the run goes on
                pending.popleft().result()
        return sent

    def copy(self, run: dict[str, Any]) -> tuple[int, Copied]:
        """(metric points written, artifacts copied) of one run."""
        self.dst.run(run, final=False)
        keys = sorted({m["key"] for m in run.get("data", {}).get("metrics", [])})
        points = self.metric_points(run["info"]["run_id"], keys)
        self.dst.inputs_outputs(run)
        rel = proxied_path(run["info"].get("artifact_uri", ""))
        copied = copy_tree(self.src, self.dst, rel) if rel else Copied()
        self.dst.run(run, final=True)
        return points, copied
