"""An in-process registry over a real SQLite tracking database, for the registry's own tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from runstash_metadata.registry.servicer import ModelRegistryServicer
from runstash_metadata.store import experiments, logged_models, runs
from runstash_metadata.store.database import Database


@dataclasses.dataclass
class Registry:
    db: Database
    servicer: ModelRegistryServicer
    run_id: str
    run_root: str
    model_id: str
    model_root: str


def open_registry(tmp_path: Path, artifact_root: str = "mlflow-artifacts:/") -> Iterator[Registry]:
    db = Database.open(f"sqlite:///{tmp_path / 'registry.db'}")
    servicer = ModelRegistryServicer(db, [artifact_root])
    with db.transaction() as conn:
        experiments.ensure_default_experiment(conn, db.q, artifact_root)
        run = runs.create_run(conn, db.q, 0, start_time=1, run_name="source-run")
        model = logged_models.create_logged_model(conn, db.q, 0, name="model", source_run_id=run.info.run_id)
    try:
        yield Registry(
            db, servicer, run.info.run_id, run.info.artifact_uri, model.info.model_id, model.info.artifact_uri
        )
    finally:
        servicer.close()
        db.close()
