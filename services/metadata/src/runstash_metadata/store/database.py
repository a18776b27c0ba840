"""The tracking database: its engines and its query object, and how callers get a connection.

Callers own their transaction::

    with db.transaction() as conn:
        runs.delete_run(conn, db.q, run_id)

``transaction()`` is one write transaction (committed on success, rolled back on an exception);
``reader()`` a connection for reads (on SQLite it never waits on a writer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from runstash_protos.metrics import observe_pool
from sqlalchemy import Connection

from runstash_metadata.store.migrate import ensure_current_schema
from runstash_metadata.store.queries import Queries, queries_for_url


class DatabaseNotFound(Exception):
    """The URL names a database that does not exist; the message says which, on which server,
    in one line (the command line prints it and exits)."""


class Database:
    """Engines (one writer, one reader; the same engine except on SQLite) and ``q``."""

    def __init__(self, url: str) -> None:
        self.q: Queries = queries_for_url(url)
        self.engine, self.read_engine = self.q.create_engines()
        observe_pool(self.engine, "write")
        if self.read_engine is not self.engine:
            observe_pool(self.read_engine, "read")

    @classmethod
    def open(cls, url: str) -> Database:
        """Connect; an empty database gets the head schema, any other version is refused."""
        db = cls(url)
        try:
            db._check_exists()
            ensure_current_schema(db.engine)
        except BaseException:
            db.close()
            raise
        return db

    def _check_exists(self) -> None:
        try:
            with self.engine.connect():
                pass
        except Exception as exc:
            for cause in _causes(exc):
                message = self.q.missing_database(cause)
                if message is not None:
                    raise DatabaseNotFound(message) from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        with self.read_engine.connect() as conn:
            yield conn

    def close(self) -> None:
        """Close every pooled connection (on SQLite the last one checkpoints and removes the WAL)."""
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (SQLAlchemy's ``orig``, chained causes)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            yield orig
        current = current.__cause__ or current.__context__
