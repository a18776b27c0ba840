"""Pattern handling shared by every database (sql_ops): escapes, and the SQLite forms."""

from __future__ import annotations

import pytest
from runstash_metadata.search.sql_ops import escaped_pattern, like
from sqlalchemy import column, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect


@pytest.mark.parametrize(
    ("pattern", "escaped"),
    [
        ("a%", "a%"),
        ("_f", "_f"),
        ("a\\%b", "a\\%b"),  # an escaped wildcard stays escaped
        ("a\\_b", "a\\_b"),
        ("a\\\\b", "a\\\\b"),  # an escaped backslash stays one literal backslash
        ("a\\b", "ab"),  # escaping an ordinary character is that character
        ("end\\", "end\\\\"),  # a trailing lone backslash is literal
    ],
)
def test_escaped_pattern(pattern: str, escaped: str) -> None:
    assert escaped_pattern(pattern) == escaped


def _sql(pattern: str, dialect: Dialect) -> str:
    return str(select(column("x")).where(like(column("v"), pattern)).compile(dialect=dialect))


def test_like_is_plain_like_where_the_database_is_case_sensitive() -> None:
    assert "(v LIKE %(param_1)s::VARCHAR ESCAPE" in _sql("Ab%", postgresql.dialect())  # type: ignore[no-untyped-call]
    assert "replace" not in _sql("Ab%", mysql.dialect())


def test_sqlite_moves_only_the_patterns_letters() -> None:
    sql = _sql("Ab%", sqlite.dialect())
    assert sql.count("replace(") == 2
    assert "'A', char(983105)" in sql
    assert "'B', char(983106)" in sql
    assert "GLOB" not in sql
    assert "replace(" not in _sql("1%_2", sqlite.dialect())


def test_sqlite_falls_back_to_glob_for_letter_rich_patterns() -> None:
    sql = _sql("abcdefghijklmnopq%", sqlite.dialect())
    assert "GLOB" in sql
    assert "replace(" not in sql
