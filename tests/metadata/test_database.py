"""Database: opening a URL whose database does not exist fails with one line naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from runstash_metadata.store.database import Database, DatabaseNotFound
from sqlalchemy.engine import make_url

SERVER = {"postgresql": "PostgreSQL", "mysql": "MySQL"}


def test_missing_database_is_named(db_kind: str, database: Any, tmp_path: Path) -> None:
    url = make_url(database.uri)
    if db_kind == "sqlite":
        missing = f"sqlite:///{tmp_path / 'no-such-folder' / 'tracking.db'}"
        expected = (
            f"The folder {tmp_path / 'no-such-folder'} of the SQLite database "
            f"{tmp_path / 'no-such-folder' / 'tracking.db'} does not exist."
        )
    else:
        missing = url.set(database="runstash_no_such_database").render_as_string(hide_password=False)
        expected = (
            f'The database "runstash_no_such_database" does not exist on the {SERVER[db_kind]} server '
            f"{url.host}:{url.port}."
        )
    with pytest.raises(DatabaseNotFound) as info:
        Database.open(missing)
    assert str(info.value) == expected
    assert "\n" not in str(info.value)


def test_existing_database_opens(database: Any) -> None:
    db = Database.open(database.uri)
    try:
        with db.reader() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        db.close()
