"""Where an import reads from. Every source answers in the shapes of MLflow's REST API (a run as
``runs/get`` returns it, a metric point as ``metrics/get-history`` does), so the copier and the
targets handle one shape whatever the source: a tracking server (:class:`RestSource`), an export
directory (``directory.DirSource``) or an MLflow database (``sql_source.SqlSource``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from runstash_server.transfer.rest import CHUNK, Rest

HISTORY_PAGE = 25_000
METRIC_FIELDS = ("key", "value", "timestamp", "step", "model_id", "dataset_name", "dataset_digest")
Json = dict[str, Any]


class Source(Protocol):
    def experiments(self) -> list[Json]: ...
    def logged_models(self, experiment_ids: list[str]) -> list[Json]: ...
    def runs(self, experiment_id: str) -> list[Json]: ...
    def history(self, run_id: str, key: str) -> Iterator[list[Json]]:
        """A metric's points in pages (a page of ``metrics/get-history``'s points)."""
        ...

    def artifact_files(self, rel: str) -> Iterator[tuple[str, int]]:
        """(path under the artifact proxy, size) of every file below ``rel``."""
        ...

    def read_artifact(self, path: str) -> Iterator[bytes]: ...
    def registered_models(self) -> list[Json]: ...
    def model_versions(self, name: str) -> list[Json]:
        """A registered model's versions in number order."""
        ...

    def close(self) -> None: ...


class RestSource:
    """A tracking server (MLflow or runstash) read through its REST API and artifact proxy."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest

    def close(self) -> None:
        self.rest.close()

    def experiments(self) -> list[Json]:
        body = {"view_type": "ALL", "max_results": 1000}
        return list(self.rest.pages("/experiments/search", body, "experiments"))

    def logged_models(self, experiment_ids: list[str]) -> list[Json]:
        body = {"experiment_ids": experiment_ids, "max_results": 100}
        return list(self.rest.pages("/logged-models/search", body, "models"))

    def runs(self, experiment_id: str) -> list[Json]:
        body = {"experiment_ids": [experiment_id], "run_view_type": "ALL", "max_results": 1000}
        return list(self.rest.pages("/runs/search", body, "runs"))

    def history(self, run_id: str, key: str) -> Iterator[list[Json]]:
        token = None
        while True:
            params: Json = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
            if token:
                params["page_token"] = token
            page = self.rest.get("/metrics/get-history", **params)
            yield [{f: m[f] for f in METRIC_FIELDS if f in m} for m in page.get("metrics", [])]
            token = page.get("next_page_token")
            if not token:
                return

    def artifact_files(self, rel: str) -> Iterator[tuple[str, int]]:
        for entry in self.rest.list_artifacts(rel):
            path = f"{rel}/{entry['path'].rsplit('/', 1)[-1]}"
            if entry.get("is_dir"):
                yield from self.artifact_files(path)
            else:
                yield path, int(entry.get("file_size") or 0)

    def read_artifact(self, path: str) -> Iterator[bytes]:
        with self.rest.download(path) as answer:
            if answer.status_code != 200:
                answer.read()
                raise RuntimeError(f"download {path}: HTTP {answer.status_code}: {answer.text[:300]}")
            yield from answer.iter_bytes(CHUNK)

    def registered_models(self) -> list[Json]:
        body = {"max_results": 1000}
        return list(self.rest.pages("/registered-models/search", body, "registered_models", method="GET"))

    def model_versions(self, name: str) -> list[Json]:
        body = {"filter": f"name='{name}'", "max_results": 1000}
        found = self.rest.pages("/model-versions/search", body, "model_versions", method="GET")
        return sorted(found, key=lambda v: int(v["version"]))
