"""Plugin: fresh, uniquely named SQLite / PostgreSQL / MariaDB databases, dropped at session end.

The local services (PostgreSQL 127.0.0.1:5432 as ``postgres``, MariaDB 127.0.0.1:3306 as
``root``) are used unless ``RUNSTASH_USE_TESTCONTAINERS=1`` and ``docker info`` works; then
PostgreSQL and MariaDB come from testcontainers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": ""}
MYSQL_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


@dataclasses.dataclass(frozen=True)
class Database:
    kind: str  # sqlite | postgresql | mysql
    name: str
    uri: str  # as a user writes it for runstash (postgresql://, mysql://, sqlite:///)
    sqlalchemy_uri: str  # with an explicit driver, for the real mlflow server and SQLAlchemy


def _testcontainers_enabled() -> bool:
    if os.environ.get("RUNSTASH_USE_TESTCONTAINERS") != "1" or shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    return probe.returncode == 0


class DatabaseFactory:
    """Creates uniquely named databases and drops every one of them at close()."""

    def __init__(self, sqlite_dir: Path, containers: contextlib.ExitStack | None) -> None:
        self._sqlite_dir = sqlite_dir
        self._containers = containers
        self._admins: dict[str, dict[str, Any]] = {"postgresql": dict(PG_ADMIN), "mysql": dict(MYSQL_ADMIN)}
        self._started: set[str] = set()
        self._created: list[Database] = []

    @property
    def uses_containers(self) -> bool:
        return self._containers is not None

    def _admin(self, kind: str) -> dict[str, Any]:
        if self._containers is not None and kind not in self._started:
            self._admins[kind] = self._start_container(kind, self._containers)
            self._started.add(kind)
        return self._admins[kind]

    @staticmethod
    def _start_container(kind: str, stack: contextlib.ExitStack) -> dict[str, Any]:
        if kind == "postgresql":
            module = importlib.import_module("testcontainers.postgres")
            container = stack.enter_context(module.PostgresContainer("postgres:15", username="postgres"))
            return {
                "host": container.get_container_host_ip(),
                "port": int(container.get_exposed_port(5432)),
                "user": "postgres",
                "password": container.password,
            }
        module = importlib.import_module("testcontainers.mysql")
        # MySQL images refuse MYSQL_USER=root; the admin is root with the container's root password.
        container = stack.enter_context(module.MySqlContainer("mariadb:10.11"))
        return {
            "host": container.get_container_host_ip(),
            "port": int(container.get_exposed_port(3306)),
            "user": "root",
            "password": container.root_password,
        }

    def create(self, kind: str) -> Database:
        name = f"rs_test_{secrets.token_hex(5)}"
        if kind == "sqlite":
            path = self._sqlite_dir / f"{name}.db"
            db = Database(kind, name, f"sqlite:///{path}", f"sqlite:///{path}")
        elif kind == "postgresql":
            a = self._admin(kind)
            import psycopg2

            conn = psycopg2.connect(
                host=a["host"], port=a["port"], user=a["user"], password=a["password"], dbname="postgres"
            )
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f'CREATE DATABASE "{name}"')
            finally:
                conn.close()
            auth = a["user"] + (f":{a['password']}" if a["password"] else "")
            tail_ = f"{auth}@{a['host']}:{a['port']}/{name}"
            db = Database(kind, name, f"postgresql://{tail_}", f"postgresql+psycopg2://{tail_}")
        elif kind == "mysql":
            a = self._admin(kind)
            import pymysql

            conn = pymysql.connect(host=a["host"], port=a["port"], user=a["user"], password=a["password"])
            try:
                with conn.cursor() as cur:
                    cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            finally:
                conn.close()
            auth = a["user"] + (f":{a['password']}" if a["password"] else "")
            tail_ = f"{auth}@{a['host']}:{a['port']}/{name}"
            db = Database(kind, name, f"mysql://{tail_}", f"mysql+pymysql://{tail_}")
        else:
            raise ValueError(kind)
        self._created.append(db)
        return db

    def drop(self, db: Database) -> None:
        if db.kind == "sqlite":
            path = Path(db.uri.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        elif db.kind == "postgresql":
            a = self._admins["postgresql"]
            import psycopg2

            conn = psycopg2.connect(
                host=a["host"], port=a["port"], user=a["user"], password=a["password"], dbname="postgres"
            )
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
            finally:
                conn.close()
        else:
            a = self._admins["mysql"]
            import pymysql

            conn = pymysql.connect(host=a["host"], port=a["port"], user=a["user"], password=a["password"])
            try:
                with conn.cursor() as cur:
                    # A leftover connection holding a metadata lock must not hang teardown.
                    cur.execute("SET SESSION lock_wait_timeout = 20")
                    cur.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
            finally:
                conn.close()

    def close(self) -> None:
        errors = []
        for db in reversed(self._created):
            try:
                self.drop(db)
            except Exception as exc:  # keep dropping the others
                errors.append(f"{db.name}: {exc}")
        self._created.clear()
        if errors:
            raise RuntimeError("could not drop test databases: " + "; ".join(errors))


@pytest.fixture(scope="session")
def container_stack() -> Iterator[contextlib.ExitStack | None]:
    if not _testcontainers_enabled():
        yield None
        return
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def database_factory(
    tmp_path_factory: pytest.TempPathFactory, container_stack: contextlib.ExitStack | None
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("sqlite"), container_stack)
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def database(db_kind: str, database_factory: DatabaseFactory) -> Database:
    """A fresh database of the parametrized kind, shared by the session (dropped at its end).

    Tests that need isolation from other tests call database_factory.create(kind) themselves."""
    return database_factory.create(db_kind)
