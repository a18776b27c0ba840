"""Dialect: URI normalisation (the tutorial's postgresql:// must reach psycopg2) and engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from runstash_metadata.store.dialect import Dialect, normalize_uri
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


def test_dialect_names() -> None:
    assert Dialect.for_uri("postgresql://u@h/d").name == "postgresql"
    assert Dialect.for_uri("mysql://u@h/d").is_mysql
    assert Dialect.for_uri("mariadb://u@h/d").is_mysql
    with pytest.raises(ValueError, match="Unsupported database"):
        Dialect.for_uri("oracle://u@h/d")


def test_sqlite_pragmas_and_separate_writer(tmp_path: Path) -> None:
    writer, reader = Dialect.for_uri(f"sqlite:///{tmp_path / 'p.db'}").create_engines()
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
