"""SQLite: a WAL database with a separate writer engine (BEGIN IMMEDIATE) and reader engine."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    create_engine,
    event,
    literal_column,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.compiler import SQLCompiler

from runstash_metadata.store.queries.base import Queries
from runstash_metadata.store.queries.constructs import MAX_MOVED_LETTERS, PRIVATE_USE_BASE, CaseSensitiveLike
from runstash_metadata.store.queries.ddl import CHART_STRIDES

SQLITE_BUSY_TIMEOUT_MS = 30_000


class SqliteQueries(Queries):
    name = "sqlite"
    chart_strides = CHART_STRIDES

    def create_engines(self) -> tuple[Engine, Engine]:
        """SQLite's deferred transactions fail with SQLITE_BUSY (without waiting) when a reader
        tries to become a writer while another connection writes, so writes use BEGIN IMMEDIATE,
        which queues on busy_timeout; reads keep plain deferred BEGIN so they never wait on writers."""
        url = make_url(self.uri)
        if url.database in (None, "", ":memory:"):
            engine = create_engine(self.uri, poolclass=StaticPool, connect_args={"check_same_thread": False})
            _setup(engine, begin="BEGIN")
            return engine, engine
        writer = create_engine(self.uri, pool_size=4, max_overflow=8)
        reader = create_engine(self.uri, pool_size=8, max_overflow=8)
        _setup(writer, begin="BEGIN IMMEDIATE")
        _setup(reader, begin="BEGIN")
        return writer, reader

    def missing_database(self, exc: BaseException) -> str | None:
        # SQLite creates a missing file, but not a missing folder.
        path = make_url(self.uri).database
        if isinstance(exc, sqlite3.OperationalError) and path and not Path(path).parent.is_dir():
            return f"The folder {Path(path).parent} of the SQLite database {path} does not exist."
        return None

    def insert(self, table: Table) -> Any:
        # Imported here: each dialect package costs start-up time, and a process needs one.
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    # ------------------------------------------------------------------ traces

    def span_text_match(self, column: Any, pattern: str, *, insensitive: bool) -> ColumnElement[bool]:
        # The FTS5 trigram index finds candidate spans by the pattern's longest literal run
        # (case-insensitively); the LIKE then applies the exact pattern to those rows only.
        exact = super().span_text_match(column, pattern, insensitive=insensitive)
        literal = max(re.split(r"[%_]", pattern), key=len)
        if len(literal) < 3:
            return exact
        phrase = '"' + literal.replace('"', '""') + '"'
        fts = text("SELECT rowid FROM trace_spans_fts WHERE trace_spans_fts MATCH :fts_phrase").bindparams(
            fts_phrase=phrase
        )
        return and_(literal_column("trace_spans.rowid").in_(fts), exact)

    @contextmanager
    def trace_search_timeout(self, conn: Connection, timeout_ms: int) -> Iterator[None]:
        # SQLite has no statement timeout: a progress handler interrupts the statement instead.
        raw: Any = conn.connection.driver_connection
        deadline = time.monotonic() + timeout_ms / 1000
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)


def _setup(engine: Engine, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit one is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # LIKE is case-sensitive on every database (MLflow's LIKE; ILIKE is the insensitive one).
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


@compiles(CaseSensitiveLike, "sqlite")
def _case_sensitive_like(element: CaseSensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite's LIKE folds ASCII case (the plan cannot count on a connection's
    ``case_sensitive_like`` pragma), so: the plain LIKE (a cheap
    prefilter) AND the same LIKE over both sides with the capitals of the pattern's letters
    replaced by private-use characters (nested ``replace()`` on the column, ``str.translate`` on
    the pattern). LIKE cannot fold those, and one character stays one character, so ``_`` still
    matches exactly one. A pattern naming more letters than SQLite's parser can nest calls for
    falls back to an exact GLOB translation instead."""
    column, pattern, moved_pattern, letters = element.clauses.clauses
    column_sql = compiler.process(column, **kw)
    plain = f"{column_sql} LIKE {compiler.process(pattern, **kw)} ESCAPE '\\'"
    # The letters are part of the SQL text (a literal_column), so they are part of the cache key.
    capitals = str(letters.name)
    if not capitals:
        return f"({plain})"
    if len(capitals) > MAX_MOVED_LETTERS:
        return f"({plain} AND {column_sql} GLOB {compiler.process(moved_pattern, **kw)})"
    moved_column_sql = column_sql
    for c in capitals:
        moved_column_sql = f"replace({moved_column_sql}, '{c}', char({PRIVATE_USE_BASE + ord(c)}))"
    return f"({plain} AND {moved_column_sql} LIKE {compiler.process(moved_pattern, **kw)} ESCAPE '\\')"
