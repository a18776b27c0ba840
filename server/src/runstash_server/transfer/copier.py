"""Everything from a source server to a target runstash, in dependency order: experiments,
logged models (their metrics reference them), runs, the model registry. Each finished unit is
recorded in the state file; a unit is an idempotent upsert, so redoing a half-finished one is safe."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runstash_server.transfer.artifacts import copy_tree, proxied_path
from runstash_server.transfer.runs import RunCopier
from runstash_server.transfer.source import Source
from runstash_server.transfer.state import State
from runstash_server.transfer.target import Target


@dataclass
class Totals:
    experiments: int = 0
    logged_models: int = 0
    runs: int = 0
    skipped: int = 0
    metric_points: int = 0
    files: int = 0
    bytes: int = 0
    registered_models: int = 0
    model_versions: int = 0
    started: float = field(default_factory=time.monotonic)
    verb: str = "Imported"

    def line(self) -> str:
        seconds = max(time.monotonic() - self.started, 1e-6)
        return (
            f"{self.verb} {self.experiments} experiments, {self.runs} runs ({self.skipped} already done), "
            f"{self.logged_models} logged models, {self.metric_points} metric points "
            f"({self.metric_points / seconds:,.0f}/s), {self.files} artifact files "
            f"({self.bytes / 2**20:.1f} MiB, {self.bytes / 2**20 / seconds:.1f} MiB/s), "
            f"{self.registered_models} registered models, {self.model_versions} model versions "
            f"in {seconds:.1f} s."
        )


Progress = Callable[[int], None]


class Copier:
    def __init__(self, src: Source, dst: Target, state: State) -> None:
        self.src, self.dst, self.state = src, dst, state
        self.totals = Totals()
        self.runs = RunCopier(src, dst)
        self._models: list[dict[str, Any]] = []

    def close(self) -> None:
        self.runs.close()

    def experiments(self) -> list[str]:
        found = self.src.experiments()
        for e in found:
            if not self.state.done("experiment", e["experiment_id"]):
                self.dst.experiment(e)
                self.state.mark("experiment", e["experiment_id"])
            self.totals.experiments += 1
        return [e["experiment_id"] for e in found]

    def logged_models(self, experiment_ids: list[str]) -> None:
        self._models = self.src.logged_models(experiment_ids)
        for model in self._models:
            model_id = model["info"]["model_id"]
            if not self.state.done("model", model_id):
                self.dst.logged_model(model)
                rel = proxied_path(model["info"].get("artifact_uri", ""))
                if rel:
                    copied = copy_tree(self.src, self.dst, rel)
                    self.totals.files += copied.files
                    self.totals.bytes += copied.bytes
                self.state.mark("model", model_id)
            self.totals.logged_models += 1

    def settle_logged_models(self) -> None:
        """The models' records once more, at the end: a run's outputs and model metrics touch a
        model's update time, and registering a version tags it (mlflow.modelVersions); both must
        end as the source has them."""
        for model in self._models:
            self.dst.logged_model(model)

    def list_runs(self, experiment_ids: list[str]) -> list[dict[str, Any]]:
        return [run for experiment_id in experiment_ids for run in self.src.runs(experiment_id)]

    def copy_runs(self, runs: list[dict[str, Any]], progress: Progress) -> None:
        for run in runs:
            run_id = run["info"]["run_id"]
            if self.state.done("run", run_id):
                self.totals.skipped += 1
            else:
                points, copied = self.runs.copy(run)
                self.totals.metric_points += points
                self.totals.files += copied.files
                self.totals.bytes += copied.bytes
                self.state.mark("run", run_id)
            self.totals.runs += 1
            progress(1)

    def registry(self) -> None:
        """Registered models with their versions (number order, numbers kept when the source has
        no gaps), aliases and timestamps; versions the target already has are left alone."""
        for model in self.src.registered_models():
            if not self.state.done("registered-model", model["name"]):
                versions = self.src.model_versions(model["name"])
                self.totals.model_versions += self.dst.registered_model(model, versions)
                self.state.mark("registered-model", model["name"])
            self.totals.registered_models += 1
