from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.stack import AuthStack, auth_stack


@pytest.fixture(scope="module")
def stack(
    database_factory: object, db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuthStack]:
    database = database_factory.create(db_kind)  # type: ignore[attr-defined]
    with auth_stack(database.uri, tmp_path_factory.mktemp("artifacts")) as built:
        yield built
