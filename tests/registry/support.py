"""An in-process registry over a real SQLite tracking store, for the registry's own tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from runstash_metadata.registry.database import RegistryDatabase
from runstash_metadata.registry.servicer import ModelRegistryServicer
from runstash_metadata.store.sql_store import SqlTrackingStore


@dataclasses.dataclass
class Registry:
    store: SqlTrackingStore
    servicer: ModelRegistryServicer
    run_id: str
    run_root: str
    model_id: str
    model_root: str


def open_registry(tmp_path: Path, artifact_root: str = "mlflow-artifacts:/") -> Iterator[Registry]:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'registry.db'}", artifact_root)
    servicer = ModelRegistryServicer(RegistryDatabase.of_store(store), [artifact_root])
    run = store.create_run(0, start_time=1, run_name="source-run")
    model = store.create_logged_model(0, name="model", source_run_id=run.info.run_id)
    try:
        yield Registry(
            store,
            servicer,
            run.info.run_id,
            run.info.artifact_uri,
            model.info.model_id,
            model.info.artifact_uri,
        )
    finally:
        servicer.close()
        store.close()
