"""Store-level fixtures: the store (its functions behind a StoreDriver) per database kind.

The databases come from the session's ``database`` fixture (tests/conftest.py: a fresh, randomly
named database per kind, dropped at the end of the session). Tests share the store of their kind,
so each test works in experiments/runs it creates itself (unique names via ``unique``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.settings import MetadataSettings

from tests.metadata.store_driver import StoreDriver

ARTIFACT_ROOT = "mlflow-artifacts:/"


@pytest.fixture(scope="session")
def store(database: Any) -> Iterator[StoreDriver]:
    # `database.uri` is the user-facing form (postgresql://, mysql://): the store must map it.
    driver = StoreDriver.open(database.uri, ARTIFACT_ROOT)
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def servicer(store: StoreDriver) -> MetadataServicer:
    return MetadataServicer(store.db, MetadataSettings(store.db.q.uri, ARTIFACT_ROOT))


@pytest.fixture
def unique() -> Callable[[str], str]:
    def make(prefix: str) -> str:
        return f"{prefix}-{secrets.token_hex(4)}"

    return make


@pytest.fixture
def experiment_id(store: StoreDriver, unique: Callable[[str], str]) -> int:
    return int(store.create_experiment(unique("exp")))


@pytest.fixture
def run_id(store: StoreDriver, experiment_id: int) -> str:
    return store.create_run(experiment_id, user_id="tester", start_time=1000).info.run_id
