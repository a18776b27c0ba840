"""A fresh database gets the head schema straight from schema.py (no Alembic at start-up): it must
be exactly the schema the migration chain builds. `runstash db upgrade` brings the first schema to
head on every database; a server refuses an older or a newer schema, naming what to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from runstash.cli import main
from runstash_metadata.store.migrate import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    SchemaVersionError,
    create_fresh,
    current_revision,
    known_revisions,
    upgrade_with_alembic,
)
from runstash_metadata.store.queries import queries_for_url
from sqlalchemy import Engine, create_engine, inspect, text

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
                    # A partial index's WHERE is a TextClause: compared by its text.
                    repr(sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items())),
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


def _migrate_to(engine: Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _at_first_revision(db_kind: str, database_factory: Any) -> tuple[str, Engine]:
    database = database_factory.create(db_kind)
    engine, _ = queries_for_url(database.uri).create_engines()
    first = known_revisions()[0]
    assert first != HEAD_REVISION
    _migrate_to(engine, first)
    assert current_revision(engine) == first
    return database.uri, engine


def test_db_upgrade_from_the_first_schema_reaches_the_head_schema(
    db_kind: str, database_factory: Any
) -> None:
    uri, engine = _at_first_revision(db_kind, database_factory)
    runner = CliRunner()
    shown = runner.invoke(main, ["db", "current", uri])
    assert shown.exit_code == 0 and shown.output.startswith(f"{known_revisions()[0]} ("), shown.output

    upgraded = runner.invoke(main, ["db", "upgrade", uri])
    assert upgraded.exit_code == 0, upgraded.output
    assert current_revision(engine) == HEAD_REVISION
    assert runner.invoke(main, ["db", "current", uri]).output == f"{HEAD_REVISION} (head)\n"

    reference = database_factory.create(db_kind)
    reference_engine, _ = queries_for_url(reference.uri).create_engines()
    upgrade_with_alembic(reference_engine)
    assert _snapshot(engine) == _snapshot(reference_engine)
    store = StoreDriver.open(uri, "/tmp/artifacts")  # starts: the schema is current now
    try:
        assert store.get_experiment(0).name == "Default"
    finally:
        store.close()
    for e in (engine, reference_engine):
        e.dispose()


def test_store_refuses_an_older_schema_and_names_the_upgrade_command(
    db_kind: str, database_factory: Any
) -> None:
    uri, engine = _at_first_revision(db_kind, database_factory)
    with pytest.raises(SchemaVersionError, match=r"needs \w+\. Back it up, then run: runstash db upgrade '"):
        StoreDriver.open(uri, "/tmp/artifacts")
    assert current_revision(engine) == known_revisions()[0]  # refused without touching it
    engine.dispose()


def test_store_and_upgrade_refuse_a_newer_schema(db_kind: str, database_factory: Any) -> None:
    database = database_factory.create(db_kind)
    engine, _ = queries_for_url(database.uri).create_engines()
    upgrade_with_alembic(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz99'"))
    with pytest.raises(SchemaVersionError, match="newer than this runstash knows"):
        StoreDriver.open(database.uri, "/tmp/artifacts")
    refused = CliRunner().invoke(main, ["db", "upgrade", database.uri])
    assert refused.exit_code == 1 and "newer than this runstash knows" in refused.output
    assert current_revision(engine) == "zz99"
    engine.dispose()


def test_server_command_exits_with_the_upgrade_command_on_an_older_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _migrate_to(engine, known_revisions()[0])
    engine.dispose()
    runstash = Path(sys.executable).with_name("runstash")
    done = subprocess.run(
        [str(runstash), "server", "--backend-store-uri", f"sqlite:///{tmp_path / 'old.db'}", "--port", "0"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith(f"runstash db upgrade 'sqlite:///{tmp_path / 'old.db'}'")
    )
    assert "Traceback" not in done.stderr
