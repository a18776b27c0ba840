"""A fresh database gets the head schema straight from schema.py (no Alembic at start-up): it must
be exactly the schema the migration chain builds."""

from __future__ import annotations

from typing import Any

import pytest
from runstash_metadata.store.migrate import (
    HEAD_REVISION,
    create_fresh,
    current_revision,
    upgrade_with_alembic,
)
from runstash_metadata.store.queries import queries_for_url
from sqlalchemy import Engine, inspect

from tests.metadata.store_driver import StoreDriver


def _snapshot(engine: Engine) -> dict[str, Any]:
    insp = inspect(engine)
    tables: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        pk = insp.get_pk_constraint(table)
        tables[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)],
            "pk": (pk.get("name"), tuple(pk["constrained_columns"])),
            "fks": sorted(
                (
                    f.get("name"),
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                )
                for f in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (
                    i["name"],
                    tuple(i["column_names"]),
                    bool(i["unique"]),
                    repr(sorted(i.get("dialect_options", {}).items())),
                    repr(i.get("include_columns")),
                )
                for i in insp.get_indexes(table)
            ),
            "uniques": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
            "options": repr(sorted(insp.get_table_options(table).items())),
        }
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            tables["extended statistics"] = sorted(
                conn.exec_driver_sql("SELECT stxname, stxkind::text FROM pg_statistic_ext").all()
            )
    return tables


def test_fresh_schema_equals_the_migrated_one(db_kind: str, database_factory: Any) -> None:
    if db_kind == "mysql":
        pytest.skip("MySQL always migrates with Alembic (non-transactional DDL)")
    engines = []
    for create in (create_fresh, upgrade_with_alembic):
        database = database_factory.create(db_kind)
        engine, _ = queries_for_url(database.uri).create_engines()
        create(engine)
        assert current_revision(engine) == HEAD_REVISION
        engines.append(engine)
    fresh, migrated = (_snapshot(e) for e in engines)
    assert "latest_metrics" in fresh and fresh == migrated
    if db_kind == "postgresql":
        assert [name for name, _ in fresh["extended statistics"]] == [
            "st_params_key_value",
            "st_tags_key_value",
        ]
    # Not empty any more: a second call leaves it to the migration check.
    assert create_fresh(engines[0]) is False
    for engine in engines:
        engine.dispose()


def test_store_opens_a_fresh_database_without_alembic(db_kind: str, database_factory: Any) -> None:
    database = database_factory.create(db_kind)
    store = StoreDriver.open(database.uri, "/tmp/artifacts")
    try:
        assert current_revision(store.db.engine) == HEAD_REVISION
        assert store.get_experiment(0).name == "Default"
    finally:
        store.close()
