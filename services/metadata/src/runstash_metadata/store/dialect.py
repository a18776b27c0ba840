"""Everything that differs between SQLite, PostgreSQL and MySQL/MariaDB, in one object.

The store and the search translation ask a :class:`Dialect` for URIs, engines, insert-ignore and
upsert statements and LIKE semantics instead of branching on the database name themselves.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from runstash_protos.errors import ErrorCode, RunstashError
from sqlalchemy import ColumnElement, Connection, Engine, Table, case, create_engine, event, text, tuple_
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert

# SQLAlchemy 2.1 picks psycopg (3) for a bare postgresql:// URI; the tutorial's URIs are written
# for psycopg2, which is what the service ships.
_DRIVER_FOR_SCHEME = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A held lock or a hung database must not hold a request (and a pooled connection) without bound:
# statements and lock waits are cancelled server-side, and the caller gets a retryable 503.
STATEMENT_TIMEOUT_MS = 25_000
LOCK_TIMEOUT_MS = 20_000
POOL_TIMEOUT_S = 20
UNAVAILABLE_MESSAGE = "The tracking database is unavailable; retry later."
NUL_MESSAGE = "Strings may not contain NUL characters on this database."
# PyMySQL OperationalError codes that mean "try again": cannot connect, server gone / connection
# lost, lock wait timeout, deadlock, statement time exceeded (MariaDB max_statement_time).
_MYSQL_RETRYABLE = {1205, 1213, 1969, 2003, 2006, 2013, 3024}


def normalize_uri(db_uri: str) -> str:
    scheme, sep, rest = db_uri.partition("://")
    if not sep:
        raise ValueError(f"Not a database URI: {db_uri!r}")
    return f"{_DRIVER_FOR_SCHEME.get(scheme, scheme)}://{rest}"


@dataclass(frozen=True)
class Dialect:
    """The differences of one database family; ``name`` is sqlite, postgresql or mysql."""

    name: str
    uri: str

    @classmethod
    def for_uri(cls, db_uri: str) -> Dialect:
        uri = normalize_uri(db_uri)
        backend = make_url(uri).get_backend_name()
        name = "mysql" if backend in ("mysql", "mariadb") else backend
        if name not in ("sqlite", "postgresql", "mysql"):
            raise ValueError(f"Unsupported database: {backend}")
        return cls(name=name, uri=uri)

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    @property
    def is_mysql(self) -> bool:
        return self.name == "mysql"

    # ------------------------------------------------------------------ engines

    def create_engines(self) -> tuple[Engine, Engine]:
        """Return (write engine, read engine); they are one engine except on SQLite.

        SQLite's deferred transactions fail with SQLITE_BUSY (without waiting) when a reader tries
        to become a writer while another connection writes, so writes use BEGIN IMMEDIATE, which
        queues on busy_timeout; reads keep plain deferred BEGIN so they never wait on writers (WAL).
        """
        if not self.is_sqlite:
            kwargs: dict[str, Any] = {
                "pool_size": 16,
                "max_overflow": 16,
                "pool_recycle": 3600,
                "pool_pre_ping": False,
                "pool_timeout": POOL_TIMEOUT_S,
            }
            if self.is_mysql:
                # REPEATABLE READ takes gap locks on upserts; concurrent batches would deadlock.
                kwargs["isolation_level"] = "READ COMMITTED"
            else:
                timeouts = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
                kwargs["connect_args"] = {"options": timeouts}
            engine = create_engine(self.uri, **kwargs)
            if self.is_mysql:
                event.listen(engine, "connect", _mysql_timeouts)
            event.listen(engine, "handle_error", _domain_errors)
            return engine, engine
        url = make_url(self.uri)
        if url.database in (None, "", ":memory:"):
            engine = create_engine(self.uri, poolclass=StaticPool, connect_args={"check_same_thread": False})
            _sqlite_setup(engine, begin="BEGIN")
            return engine, engine
        writer = create_engine(self.uri, pool_size=4, max_overflow=8)
        reader = create_engine(self.uri, pool_size=8, max_overflow=8)
        _sqlite_setup(writer, begin="BEGIN IMMEDIATE")
        _sqlite_setup(reader, begin="BEGIN")
        return writer, reader

    # ------------------------------------------------------------------ statements

    def insert(self, table: Table) -> Any:
        """A dialect-specific INSERT construct (supports the on-conflict helpers below)."""
        # Imported here: each dialect package costs start-up time, and a process needs one.
        if self.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        if self.is_mysql:
            from sqlalchemy.dialects import mysql

            return mysql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    def _batched(self, stmt: Any, table: Table, conflict_columns: Sequence[str]) -> Insert:
        """On PostgreSQL, SQLAlchemy packs an executemany of INSERT .. ON CONFLICT into multi-row
        statements (insertmanyvalues) only when the statement has RETURNING; without it psycopg2
        would send one statement per row."""
        if self.name == "postgresql":
            return stmt.returning(table.c[conflict_columns[0]])  # type: ignore[no-any-return]
        return stmt  # type: ignore[no-any-return]

    def insert_ignore(self, table: Table, conflict_columns: Sequence[str]) -> Insert:
        """INSERT that silently skips rows whose ``conflict_columns`` key already exists."""
        stmt = self.insert(table)
        if self.is_mysql:
            # Not INSERT IGNORE: that would also swallow truncation and FK errors.
            first = conflict_columns[0]
            return stmt.on_duplicate_key_update({first: table.c[first]})  # type: ignore[no-any-return]
        return self._batched(
            stmt.on_conflict_do_nothing(index_elements=list(conflict_columns)), table, conflict_columns
        )

    def bulk_insert_ignore(
        self, table: Table, conflict_columns: Sequence[str]
    ) -> Callable[[Connection, list[tuple[Any, ...]]], None]:
        """A function inserting many rows (tuples in table column order) at once, skipping
        existing keys; the write hot path.

        PostgreSQL gets one ``INSERT .. SELECT FROM unnest(<one array per column>)``: a fixed
        statement with one parameter per column, about twice as fast as a 1000-row VALUES list.
        """
        columns = [c.name for c in table.columns]
        if self.name != "postgresql":
            stmt = self.insert_ignore(table, conflict_columns)

            def insert_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
                conn.execute(stmt, [dict(zip(columns, row, strict=True)) for row in rows])

            return insert_rows
        names, source = self.unnest_select(table, columns)
        sql = text(
            f"INSERT INTO {_pg_quote(table.name)} ({names}) {source} "
            f"ON CONFLICT ({', '.join(map(_pg_quote, conflict_columns))}) DO NOTHING"
        )

        def insert_arrays(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
            conn.execute(sql, dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))

        return insert_arrays

    def unnest_select(self, table: Table, columns: Sequence[str], prefix: str = "") -> tuple[str, str]:
        """(column list, ``SELECT .. FROM unnest(<one array parameter per column>)``) for PostgreSQL.

        The bind parameters are named ``prefix + column``; the selected columns ``u_<column>``."""
        from sqlalchemy.dialects import postgresql

        pg = postgresql.dialect()  # type: ignore[no-untyped-call]
        arrays = ", ".join(f"CAST(:{prefix}{c} AS {table.c[c].type.compile(dialect=pg)}[])" for c in columns)
        aliases = ", ".join(f"u_{c}" for c in columns)
        names = ", ".join(_pg_quote(c) for c in columns)
        return names, f"SELECT {aliases} FROM unnest({arrays}) AS {prefix}u({aliases})"

    def bulk_upsert_if_greater(
        self,
        table: Table,
        conflict_columns: Sequence[str],
        order_columns: Sequence[str],
        other_columns: Sequence[str],
    ) -> Callable[[Connection, list[tuple[Any, ...]]], None]:
        """:meth:`upsert_if_greater` for many rows (tuples in table column order, at most one per
        key); on PostgreSQL one ``INSERT .. SELECT FROM unnest(..)`` with one array per column."""
        columns = [c.name for c in table.columns]
        if self.name != "postgresql":
            stmt = self.upsert_if_greater(table, conflict_columns, order_columns, other_columns)

            def upsert_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
                conn.execute(stmt, [dict(zip(columns, row, strict=True)) for row in rows])

            return upsert_rows
        names, source = self.unnest_select(table, columns)
        q = _pg_quote
        old = ", ".join(f"t.{q(c)}" for c in order_columns)
        new = ", ".join(f"excluded.{q(c)}" for c in order_columns)
        sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in (*order_columns, *other_columns))
        sql = text(
            f"INSERT INTO {q(table.name)} AS t ({names}) {source} "
            f"ON CONFLICT ({', '.join(map(q, conflict_columns))}) DO UPDATE SET {sets} "
            f"WHERE ({old}) < ({new})"
        )

        def upsert_arrays(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
            conn.execute(sql, dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))

        return upsert_arrays

    def upsert(self, table: Table, conflict_columns: Sequence[str], update_columns: Sequence[str]) -> Insert:
        """INSERT that overwrites ``update_columns`` when the key already exists."""
        stmt = self.insert(table)
        if self.is_mysql:
            return stmt.on_duplicate_key_update(  # type: ignore[no-any-return]
                [(c, stmt.inserted[c]) for c in update_columns]
            )
        return self._batched(
            stmt.on_conflict_do_update(
                index_elements=list(conflict_columns),
                set_={c: stmt.excluded[c] for c in update_columns},
            ),
            table,
            conflict_columns,
        )

    def upsert_if_greater(
        self,
        table: Table,
        conflict_columns: Sequence[str],
        order_columns: Sequence[str],
        other_columns: Sequence[str],
    ) -> Insert:
        """Upsert that replaces the row only when the new ``order_columns`` tuple is greater.

        This is the latest-metric rule: (step, timestamp, value) compared lexicographically.
        """
        stmt = self.insert(table)
        if self.is_mysql:
            new = stmt.inserted
            greater = tuple_(*(table.c[c] for c in order_columns)) < tuple_(*(new[c] for c in order_columns))
            # MySQL applies assignments left to right and later conditions see earlier results:
            # columns outside the comparison go first, then the order columns from least to most
            # significant, so the condition only turns false once the remaining columns are equal.
            ordered = [*other_columns, *reversed(order_columns)]
            return stmt.on_duplicate_key_update(  # type: ignore[no-any-return]
                [(c, case((greater, new[c]), else_=table.c[c])) for c in ordered]
            )
        excluded = stmt.excluded
        greater = tuple_(*(table.c[c] for c in order_columns)) < tuple_(*(excluded[c] for c in order_columns))
        return self._batched(
            stmt.on_conflict_do_update(
                index_elements=list(conflict_columns),
                set_={c: excluded[c] for c in (*order_columns, *other_columns)},
                where=greater,
            ),
            table,
            conflict_columns,
        )

    # ------------------------------------------------------------------ search helpers

    def like(self, column: ColumnElement[Any], pattern: Any) -> ColumnElement[bool]:
        """Case-sensitive LIKE on every database.

        PostgreSQL's LIKE is case-sensitive; SQLite is made so by ``PRAGMA case_sensitive_like``
        on every connection; MySQL tables use the ``utf8mb4_bin`` collation.
        """
        return column.like(pattern)

    def ilike(self, column: ColumnElement[Any], pattern: Any) -> ColumnElement[bool]:
        """Case-insensitive LIKE (ILIKE on PostgreSQL, lower() LIKE lower() elsewhere)."""
        return column.ilike(pattern)


def _quote_element(key: str) -> str:
    """``key`` as one element of a PostgreSQL array literal (always double-quoted)."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_text_array(items: Sequence[str]) -> str:
    quoted = {k: _quote_element(k) for k in set(items)}  # a batch repeats a few keys
    return "{" + ",".join([quoted[k] for k in items]) + "}"


def pg_number_array(items: Sequence[float] | Sequence[int]) -> str:
    # repr() of a float round-trips exactly; PostgreSQL's float8 input reads it back bit for bit.
    return "{" + ",".join(map(repr, items)) + "}"


def _pg_quote(name: str) -> str:
    """PostgreSQL identifier quoting (only where needed), for the hand-written array statements."""
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect().identifier_preparer.quote(name)  # type: ignore[no-untyped-call]


def _mysql_timeouts(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {LOCK_TIMEOUT_MS // 1000}")
        # MariaDB only: MySQL proper has no max_statement_time.
        with contextlib.suppress(Exception):
            cursor.execute(f"SET SESSION max_statement_time = {STATEMENT_TIMEOUT_MS / 1000}")
    finally:
        cursor.close()


def _domain_errors(ctx: ExceptionContext) -> None:
    """Database failures that are not the request's fault become retryable 503s; a NUL character
    (PostgreSQL cannot store it) becomes a 400 instead of a 500."""
    exc = ctx.original_exception
    if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
        raise RunstashError(ErrorCode.INVALID_PARAMETER_VALUE, NUL_MESSAGE) from exc
    if ctx.is_disconnect or _retryable(ctx.dialect.name if ctx.dialect else "", exc):
        raise RunstashError(ErrorCode.TEMPORARILY_UNAVAILABLE, UNAVAILABLE_MESSAGE) from exc


def _retryable(dialect_name: str, exc: BaseException) -> bool:
    """Connection failures, cancelled statements (timeouts), lock timeouts and deadlocks."""
    if dialect_name == "postgresql":
        import psycopg2

        return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))
    if dialect_name in ("mysql", "mariadb"):
        import pymysql

        if isinstance(exc, pymysql.err.InterfaceError):
            return True
        return (
            isinstance(exc, pymysql.err.OperationalError)
            and bool(exc.args)
            and exc.args[0] in _MYSQL_RETRYABLE
        )
    return False


def _sqlite_setup(engine: Engine, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit one is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
