"""MySQL / MariaDB: ON DUPLICATE KEY UPDATE instead of ON CONFLICT, READ COMMITTED, session timeouts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    Text,
    case,
    cast,
    create_engine,
    event,
    func,
    tuple_,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store import schema as s
from runstash_metadata.store.queries.base import (
    LATEST_ORDER,
    LOCK_TIMEOUT_MS,
    POOL_TIMEOUT_S,
    STATEMENT_TIMEOUT_MS,
    Queries,
)
from runstash_metadata.store.queries.constructs import ExactEquals, ExactIn, exact_match

# PyMySQL OperationalError codes that mean "try again": cannot connect, server gone / connection
# lost, lock wait timeout, deadlock, statement time exceeded (MariaDB max_statement_time).
_RETRYABLE = {1205, 1213, 1969, 2003, 2006, 2013, 3024}
_UNKNOWN_DATABASE = 1049


class MysqlQueries(Queries):
    name = "mysql"
    default_port = 3306

    def create_engines(self) -> tuple[Engine, Engine]:
        engine = create_engine(
            self.uri,
            pool_size=16,
            max_overflow=16,
            pool_recycle=3600,
            pool_pre_ping=False,
            pool_timeout=POOL_TIMEOUT_S,
            # REPEATABLE READ takes gap locks on upserts; concurrent batches would deadlock.
            isolation_level="READ COMMITTED",
        )
        event.listen(engine, "connect", _session_timeouts)
        self._watch_errors(engine)
        return engine, engine

    def is_retryable(self, exc: BaseException) -> bool:
        import pymysql

        if isinstance(exc, pymysql.err.InterfaceError):
            return True
        return isinstance(exc, pymysql.err.OperationalError) and bool(exc.args) and exc.args[0] in _RETRYABLE

    def missing_database(self, exc: BaseException) -> str | None:
        import pymysql

        if isinstance(exc, pymysql.err.OperationalError) and exc.args and exc.args[0] == _UNKNOWN_DATABASE:
            database = make_url(self.uri).database
            return f'The database "{database}" does not exist on the MySQL server {self._server()}.'
        return None

    def insert(self, table: Table) -> Any:
        from sqlalchemy.dialects import mysql

        return mysql.insert(table)

    def insert_ignore(self, table: Table, conflict_columns: Sequence[str]) -> Insert:
        # Not INSERT IGNORE: that would also swallow truncation and FK errors.
        first = conflict_columns[0]
        return self.insert(table).on_duplicate_key_update({first: table.c[first]})  # type: ignore[no-any-return]

    def upsert(self, table: Table, conflict_columns: Sequence[str], update_columns: Sequence[str]) -> Insert:
        stmt = self.insert(table)
        return stmt.on_duplicate_key_update([(c, stmt.inserted[c]) for c in update_columns])  # type: ignore[no-any-return]

    @cached_property
    def latest_metric_upsert(self) -> Insert:
        t = s.latest_metrics
        stmt = self.insert(t)
        new = stmt.inserted
        greater = tuple_(*(t.c[c] for c in LATEST_ORDER)) < tuple_(*(new[c] for c in LATEST_ORDER))
        # MySQL applies assignments left to right and later conditions see earlier results: columns
        # outside the comparison go first, then the order columns from least to most significant,
        # so the condition only turns false once the remaining columns are equal.
        ordered = ["is_nan", *reversed(LATEST_ORDER)]
        return stmt.on_duplicate_key_update(  # type: ignore[no-any-return]
            [(c, case((greater, new[c]), else_=t.c[c])) for c in ordered]
        )

    def before_explicit_zero_id(self, conn: Connection) -> None:
        # An explicit 0 in an AUTO_INCREMENT column means "next value" unless told otherwise.
        conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")

    # ------------------------------------------------------------------ traces

    def span_text_match(self, column: Any, pattern: str, *, insensitive: bool) -> ColumnElement[bool]:
        # CAST(... AS CHAR) takes the connection's case-insensitive collation: LIKE keeps case.
        body = cast(column, Text)
        if insensitive:
            return func.lower(body).like(func.lower(pattern))
        return body.collate("utf8mb4_bin").like(pattern)

    @contextmanager
    def trace_search_timeout(self, conn: Connection, timeout_ms: int) -> Iterator[None]:
        # MariaDB's max_statement_time is in seconds; MySQL proper has none (see _session_timeouts).
        with contextlib.suppress(Exception):
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                conn.exec_driver_sql(f"SET SESSION max_statement_time = {STATEMENT_TIMEOUT_MS / 1000:.3f}")


def _session_timeouts(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {LOCK_TIMEOUT_MS // 1000}")
        # MariaDB only: MySQL proper has no max_statement_time.
        with contextlib.suppress(Exception):
            cursor.execute(f"SET SESSION max_statement_time = {STATEMENT_TIMEOUT_MS / 1000}")
    finally:
        cursor.close()


@compiles(ExactEquals, "mysql")
@compiles(ExactEquals, "mariadb")
@compiles(ExactIn, "mysql")
@compiles(ExactIn, "mariadb")
def _exact_match(element: ExactEquals | ExactIn, compiler: SQLCompiler, **kw: Any) -> str:
    # utf8mb4_bin is a PAD SPACE collation: 'alpha' = 'alpha ' holds. The plain test keeps the
    # index; the BINARY one makes trailing spaces count, as on the other databases.
    column, value = element.clauses.clauses
    plain = compiler.process(exact_match(element, column, value), **kw)
    exact = compiler.process(exact_match(element, func.binary(column), value), **kw)
    return f"({plain} AND {exact})"
