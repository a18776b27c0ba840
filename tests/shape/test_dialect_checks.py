"""Every SQL difference between the databases lives in the query objects (``store/queries/``).

Outside ``store/queries/`` and the migrations, the metadata service names no database family and
never asks a connection which one it is, except to hand the dialect's name to ``ddl_for`` (the
DDL-side companion of the query objects, which answers for the family).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "services" / "metadata" / "src" / "runstash_metadata"
DIALECT_HOME = PACKAGE / "store" / "queries"
MIGRATIONS = PACKAGE / "store" / "migrations"
DIALECT_NAMES = re.compile(r"postgres|mysql|mariadb|sqlite")


def _outside_dialect_objects() -> list[Path]:
    return [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if not p.is_relative_to(DIALECT_HOME) and not p.is_relative_to(MIGRATIONS)
    ]


def test_the_walk_covers_the_store_and_search_but_not_the_dialect_objects() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in _outside_dialect_objects()}
    assert {"store/schema.py", "store/migrate.py", "search/sql_ops.py", "servicer.py"} <= names
    assert not any(n.startswith(("store/queries/", "store/migrations/")) for n in names)


def test_no_database_family_is_named_outside_the_dialect_objects() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _outside_dialect_objects()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if DIALECT_NAMES.search(line)
    ]
    assert not found, "database families named outside store/queries/:\n" + "\n".join(found)


def _dialect_name_uses(tree: ast.AST) -> list[ast.Attribute]:
    """``<x>.dialect.name`` expressions that are not the argument of a ``ddl_for(...)`` call."""
    handed_over = {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ddl_for"
        for arg in node.args
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "name"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "dialect"
        and id(node) not in handed_over
    ]


def test_no_code_outside_the_dialect_objects_branches_on_the_dialect() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _outside_dialect_objects()
        for node in _dialect_name_uses(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "dialect checks outside store/queries/: " + ", ".join(found)


def test_the_ast_check_sees_a_dialect_branch() -> None:
    assert _dialect_name_uses(ast.parse('if conn.dialect.name == "x":\n    pass'))
    assert not _dialect_name_uses(ast.parse("ddl_for(conn.dialect.name).relax_timeouts(conn)"))
