"""The registry's handle on the tracking database: engines, the dialect object, transactions.

Stands in for ``store.database.Database`` (same ``transaction()`` / ``reader()`` / ``q`` shape)
until that lands; it shares the tracking store's engines, so both see one database and one pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection, Engine

from runstash_metadata.store.dialect import Dialect
from runstash_metadata.store.sql_store import SqlTrackingStore


class RegistryDatabase:
    def __init__(self, engine: Engine, read_engine: Engine, q: Dialect) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self.q = q

    @classmethod
    def of_store(cls, store: SqlTrackingStore) -> RegistryDatabase:
        return cls(store._engine, store._read_engine, store.dialect)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def reader(self) -> Iterator[Connection]:
        with self.read_engine.connect() as conn:
            yield conn
