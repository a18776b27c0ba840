"""experiments/search statements on SQLite, PostgreSQL and MariaDB over the seeded experiments
(active: 0 Default, 1 search-exp, 2 Other, 4 default-copy; deleted: 3 gone)."""

from __future__ import annotations

import pytest
from runstash_protos import metadata_pb2 as pb

from .conftest import SearchDb


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # Default order: creation_time DESC, experiment_id ASC.
        ("", [2, 4, 1, 0]),
        ("name ILIKE 'def%'", [4, 0]),
        ("name = 'default'", []),
        ("name = 'Default'", [0]),
        ("name != 'Default'", [2, 4, 1]),
        ("name LIKE 'D%'", [0]),
        ("name LIKE '%-%'", [4, 1]),
        ("tags.owner IS NULL", [4, 0]),
        ("tags.owner IS NOT NULL", [2, 1]),
        ("experiment_id IN ('0', '2')", [2, 0]),
        ("experiment_id = '1'", [1]),
        ("experiment_id != '0'", [2, 4, 1]),
        ("experiment_id NOT IN ('1', '2')", [4, 0]),
        ("last_update_time >= 0 AND tags.owner LIKE 'al%'", [1]),
        ("tags.owner ILIKE 'b%'", [2]),
        ("tags.owner LIKE 'b%'", []),
        ("tags.owner != 'alice'", [2]),
        ("tags.owner = 'alice' AND tags.kind = 'x'", []),
        ("creation_time > 100", [2, 4, 1]),
        ("creation_time = 300", [2, 4]),
        ("last_update_time < 400 AND creation_time >= 100", [2, 0]),
        ("attributes.name = 'Other'", [2]),
    ],
)
def test_filters(search_db: SearchDb, filter_string: str, expected: list[int]) -> None:
    assert search_db.experiments(filter_string) == expected


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [(pb.ACTIVE_ONLY, [2, 4, 1, 0]), (pb.DELETED_ONLY, [3]), (pb.ALL, [3, 2, 4, 1, 0])],
)
def test_view_type(search_db: SearchDb, view_type: int, expected: list[int]) -> None:
    assert search_db.experiments(view_type=view_type) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # Byte-wise: 'Default' < 'Other' < 'default-copy' < 'search-exp'.
        (["name"], [0, 2, 4, 1]),
        (["name DESC"], [1, 4, 2, 0]),
        (["last_update_time DESC"], [1, 4, 2, 0]),
        (["experiment_id DESC"], [4, 2, 1, 0]),
        # The appended tie-breaker is experiment_id DESC.
        (["creation_time"], [0, 1, 4, 2]),
        (["creation_time", "experiment_id"], [0, 1, 2, 4]),
    ],
)
def test_order_by(search_db: SearchDb, order_by: list[str], expected: list[int]) -> None:
    assert search_db.experiments(order_by=order_by) == expected


def test_paging(search_db: SearchDb) -> None:
    first, token = search_db.experiment_page(max_results=2)
    assert first == [2, 4]
    assert token is not None
    second, token = search_db.experiment_page(max_results=2, page_token=token)
    assert (second, token) == ([1, 0], None)
