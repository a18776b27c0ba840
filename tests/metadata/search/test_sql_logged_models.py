"""logged-models/search statements on SQLite, PostgreSQL and MariaDB over the seeded models
(experiment 1: m-a READY created 100, m-b PENDING 200, m-c FAILED 300, m-d deleted;
experiment 2: m-e). m-a's acc: 0.5 then 0.9 on iris/abc123, then 0.1 (latest) on wine/def456;
m-b's acc 0.7 on wine/def456 and loss NaN."""

from __future__ import annotations

import pytest
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError

from .conftest import RUN_IDS, SearchDb

OrderBy = pb.SearchLoggedModels.OrderBy
Dataset = pb.SearchLoggedModels.Dataset
IRIS = "abc123"


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # Default order: creation_timestamp DESC, model_id ASC.
        ("", ["m-c", "m-b", "m-a"]),
        ("name = 'lm_a'", ["m-a"]),
        ("status IN ('PENDING', 'FAILED')", ["m-c", "m-b"]),
        ("status = 'READY'", ["m-a"]),
        ("status != 'READY'", ["m-c", "m-b"]),
        ("status NOT IN ('READY', 'PENDING')", ["m-c"]),
        ('params.depth = "2"', []),
        ("params.depth = '2'", ["m-a"]),
        ("params.depth IN ('2', '3')", ["m-b", "m-a"]),
        ("params.depth != '2'", ["m-b"]),
        ("tags.stage LIKE 'p%'", ["m-a"]),
        ("tags.stage ILIKE 'p%'", ["m-b", "m-a"]),
        ("tags.stage NOT IN ('prod')", ["m-b"]),
        ("model_type != 'sklearn'", ["m-b"]),
        ("model_type NOT IN ('xgb')", ["m-a"]),
        ("model_type LIKE '%'", ["m-b", "m-a"]),
        ("creation_timestamp >= 200", ["m-c", "m-b"]),
        ("creation_time < 200", ["m-a"]),
        ("last_updated_timestamp = 250", ["m-b"]),
        (f"source_run_id = '{RUN_IDS['r-alpha']}'", ["m-a"]),
        ("model_id LIKE 'm-_'", ["m-c", "m-b", "m-a"]),
        ("name ILIKE 'LM_B'", ["m-b"]),
        # Metrics compare the latest value of each model.
        ("metrics.acc > 0.5", ["m-b"]),
        ("metrics.acc < 0.5", ["m-a"]),
        ("metrics.acc = 0.9", []),
        ("metrics.loss != 1", ["m-b"]),
        ("metrics.loss = 0", []),
        ("metrics.nope > 0", []),
        ("metrics.acc > 0 AND params.depth = '3'", ["m-b"]),
    ],
)
def test_filters(search_db: SearchDb, filter_string: str, expected: list[str]) -> None:
    assert search_db.models(filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "datasets", "expected"),
    [
        # A metric clause only looks at points on the requested datasets.
        ("metrics.acc > 0.5", [Dataset(dataset_name="iris", dataset_digest="abc123")], ["m-a"]),
        ("metrics.acc > 0.5", [Dataset(dataset_name="iris")], ["m-a"]),
        ("metrics.acc > 0.5", [Dataset(dataset_name="wine", dataset_digest="def456")], ["m-b"]),
        ("metrics.acc > 0.5", [Dataset(dataset_name="iris", dataset_digest="other")], []),
        (
            "metrics.acc > 0.5",
            [Dataset(dataset_name="iris"), Dataset(dataset_name="wine")],
            ["m-b"],
        ),
        # Without a metric clause: models having any metric on those datasets.
        ("", [Dataset(dataset_name="wine")], ["m-b", "m-a"]),
        ("", [Dataset(dataset_name="iris")], ["m-a"]),
        ("", [Dataset(dataset_name="nope")], []),
        ("name = 'lm_b'", [Dataset(dataset_name="wine")], ["m-b"]),
    ],
)
def test_datasets(
    search_db: SearchDb, filter_string: str, datasets: list[Dataset], expected: list[str]
) -> None:
    assert search_db.models(filter_string, datasets=datasets) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([OrderBy(field_name="metrics.acc", ascending=False)], ["m-b", "m-a", "m-c"]),
        ([OrderBy(field_name="metrics.acc")], ["m-a", "m-b", "m-c"]),
        ([OrderBy(field_name="metrics.acc", dataset_name="iris")], ["m-a", "m-c", "m-b"]),
        (
            [OrderBy(field_name="metrics.acc", ascending=False, dataset_name="iris", dataset_digest=IRIS)],
            ["m-a", "m-c", "m-b"],
        ),
        ([OrderBy(field_name="metrics.loss")], ["m-b", "m-c", "m-a"]),
        ([OrderBy(field_name="name", ascending=False)], ["m-c", "m-b", "m-a"]),
        ([OrderBy(field_name="model_type")], ["m-a", "m-b", "m-c"]),
        ([OrderBy(field_name="model_type", ascending=False)], ["m-b", "m-a", "m-c"]),
        ([OrderBy(field_name="creation_timestamp")], ["m-a", "m-b", "m-c"]),
        ([OrderBy(field_name="creation_time", ascending=True)], ["m-a", "m-b", "m-c"]),
        ([OrderBy(field_name="status"), OrderBy(field_name="name")], ["m-b", "m-a", "m-c"]),
        ([OrderBy(field_name="last_updated_timestamp", ascending=False)], ["m-c", "m-b", "m-a"]),
    ],
)
def test_order_by(
    search_db: SearchDb, order_by: list[pb.SearchLoggedModels.OrderBy], expected: list[str]
) -> None:
    assert search_db.models(order_by=order_by) == expected


def test_several_experiments_and_deleted_models(search_db: SearchDb) -> None:
    assert search_db.models(experiment_ids=["1", "2"]) == ["m-e", "m-c", "m-b", "m-a"]
    assert search_db.models(experiment_ids=["2"], filter_string="metrics.acc > 0.9") == ["m-e"]
    assert "m-d" not in search_db.models(experiment_ids=["1"], filter_string="name = 'lm_d'")


def test_default_page_size_is_50(search_db: SearchDb) -> None:
    from runstash_metadata.search import logged_models

    plan = logged_models.plan(["1"], None, [], [], 0, None)
    assert plan.max_results == 50


def test_paging_token_carries_the_request(search_db: SearchDb) -> None:
    order = [OrderBy(field_name="creation_timestamp", ascending=False)]
    first, token = search_db.model_page(filter_string="name LIKE 'lm%'", order_by=order, max_results=2)
    assert first == ["m-c", "m-b"]
    assert token is not None
    second, last = search_db.model_page(
        filter_string="name LIKE 'lm%'", order_by=order, max_results=2, page_token=token
    )
    assert (second, last) == (["m-a"], None)
    # The same token with another filter, order or experiment list is refused.
    with pytest.raises(RunstashError) as info:
        search_db.model_page(filter_string="name LIKE 'l%'", order_by=order, max_results=2, page_token=token)
    assert info.value.message.startswith("Filter string in the page token does not match")
    with pytest.raises(RunstashError) as info:
        search_db.model_page(filter_string="name LIKE 'lm%'", max_results=2, page_token=token)
    assert info.value.message.startswith("Order by in the page token does not match")
    with pytest.raises(RunstashError) as info:
        search_db.model_page(
            filter_string="name LIKE 'lm%'",
            order_by=order,
            experiment_ids=["1", "2"],
            max_results=2,
            page_token=token,
        )
    assert info.value.message.startswith("Experiment IDs in the page token do not match")
