"""Query objects: chosen from the URL (the tutorial's postgresql:// must reach psycopg2), engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from runstash_metadata.store.queries import (
    MysqlQueries,
    PostgresQueries,
    SqliteQueries,
    normalize_uri,
    queries_for_url,
)
from sqlalchemy import text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/mlflow", "postgresql+psycopg2://u:p@db:5432/mlflow"),
        ("postgres://u@db/mlflow", "postgresql+psycopg2://u@db/mlflow"),
        ("mysql://root@db/mlflow", "mysql+pymysql://root@db/mlflow"),
        ("postgresql+psycopg2://u@db/x", "postgresql+psycopg2://u@db/x"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_normalize_uri(given: str, expected: str) -> None:
    assert normalize_uri(given) == expected


def test_query_object_per_database() -> None:
    assert type(queries_for_url("postgresql://u@h/d")) is PostgresQueries
    assert type(queries_for_url("mysql://u@h/d")) is MysqlQueries
    assert type(queries_for_url("mariadb://u@h/d")) is MysqlQueries
    assert type(queries_for_url("sqlite:///x.db")) is SqliteQueries
    assert queries_for_url("postgres://u@h/d").uri == "postgresql+psycopg2://u@h/d"
    with pytest.raises(ValueError, match="Unsupported database"):
        queries_for_url("oracle://u@h/d")


def test_sqlite_pragmas_and_separate_writer(tmp_path: Path) -> None:
    writer, reader = queries_for_url(f"sqlite:///{tmp_path / 'p.db'}").create_engines()
    try:
        assert writer is not reader
        with reader.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            # case_sensitive_like: 'A' must not match 'a'.
            assert conn.execute(text("SELECT 'abc' LIKE 'ABC'")).scalar() == 0
    finally:
        writer.dispose()
        reader.dispose()
