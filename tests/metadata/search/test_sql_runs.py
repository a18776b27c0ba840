"""runs/search statements executed on SQLite, PostgreSQL and MariaDB over the seeded data
(conftest.py): matched runs and their order, for every kind of filter and ordering."""

from __future__ import annotations

import pytest
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError

from .conftest import RUN_IDS, SearchDb

ALPHA, BETA = RUN_IDS["r-alpha"], RUN_IDS["r-beta"]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # search-grammar.md §5, examples 1-28 (default order: start_time DESC).
        ("metrics.acc > 0.8", ["r-alpha"]),
        ("metrics.acc >= 0.5 AND params.lr = '0.01'", ["r-gamma", "r-alpha"]),
        ("metric.acc < 0.8", ["r-gamma", "r-beta"]),
        ('params.model = "rf"', ["r-alpha"]),
        ("params.model != 'rf'", ["r-beta"]),
        ("params.model IS NULL", ["r-gamma"]),
        ("tags.team ILIKE 'a%'", ["r-alpha"]),
        ("tags.team LIKE 'a%'", []),
        ("tags.`mlflow.source.type` = 'LOCAL'", ["r-alpha"]),
        ("tags.`my tag` = 'x'", ["r-alpha"]),
        ("metrics.`my metric` < 0", ["r-gamma"]),
        ("metrics.loss != 0.2", ["r-beta"]),
        ("metrics.loss > -1", ["r-alpha"]),
        ("metrics.acc > 5e-1", ["r-beta", "r-alpha"]),
        ("status != 'RUNNING'", ["r-beta", "r-alpha"]),
        (f"attributes.run_id IN ('{ALPHA}', '{BETA}')", ["r-beta", "r-alpha"]),
        ("attributes.run_name LIKE 'r-a%'", ["r-alpha"]),
        ("`Run name` = 'r-beta'", ["r-beta"]),
        ("tags.mlflow.runName = 'r-beta'", ["r-beta"]),
        ("created >= 3000", ["r-gamma"]),
        ("dataset.context = 'train' AND dataset.digest = 'abc123'", ["r-alpha"]),
        ("datasets.name IN ('iris', 'nope')", ["r-alpha"]),
        ("params.lr = '0.01' AND params.lr = '0.1'", []),
        ("params.model LIKE '_f'", ["r-alpha"]),
        # NaN and missing metrics.
        ("metrics.loss = 0", []),
        ("metrics.loss != 0", ["r-beta", "r-alpha"]),
        ("metrics.loss < 1", ["r-alpha"]),
        ("metrics.loss <= 0", []),
        ("metrics.loss >= -1e400", ["r-alpha"]),
        ("metrics.nope > 0", []),
        ("metrics.nope != 0", []),
        ("metrics.acc > 0.5 AND metrics.acc < 0.95", ["r-beta", "r-alpha"]),
        # Missing params/tags are false for every comparator; presence tests.
        ("tags.team != 'Alpha'", ["r-beta"]),
        ("tags.team IS NOT NULL", ["r-beta", "r-alpha"]),
        ("tags.team IS NULL", ["r-gamma"]),
        ("params.model IS NOT NULL AND tags.team IS NOT NULL", ["r-beta", "r-alpha"]),
        ("params.model ILIKE 'RF'", ["r-alpha"]),
        ("params.model LIKE 'RF'", []),
        ("params.lr LIKE '0.0%'", ["r-gamma", "r-alpha"]),
        # Attributes.
        ("end_time > 0", ["r-beta", "r-alpha"]),
        ("end_time != 1500", ["r-beta"]),
        ("start_time < 2000.5", ["r-beta", "r-alpha"]),
        ("user_id = 'alice'", ["r-alpha"]),
        ("user_id ILIKE 'alice'", ["r-gamma", "r-alpha"]),
        ("user_id LIKE 'A%'", ["r-gamma"]),
        (f"run_id NOT IN ('{ALPHA}')", ["r-gamma", "r-beta"]),
        (f"run_id = '{ALPHA}'", ["r-alpha"]),
        ("run_id LIKE 'b2%'", ["r-beta"]),
        ("artifact_uri LIKE 's3://bucket/1/%'", ["r-gamma", "r-beta", "r-alpha"]),
        ("status = 'running'", []),
        ("status ILIKE 'running'", ["r-gamma"]),
        ("run_name != 'r-beta'", ["r-gamma", "r-alpha"]),
        # Datasets: a run matches when any of its inputs satisfies the clause.
        ("datasets.context != 'train'", ["r-beta"]),
        ("datasets.name NOT IN ('iris')", ["r-beta"]),
        ("dataset.name LIKE 'IR%'", []),
        ("dataset.name ILIKE 'IR%'", ["r-alpha"]),
        ("datasets.digest = 'def456' AND datasets.context = 'eval'", ["r-beta"]),
        ("datasets.context IN ('train', 'eval')", ["r-beta", "r-alpha"]),
    ],
)
def test_filters(search_db: SearchDb, filter_string: str, expected: list[str]) -> None:
    assert search_db.runs(filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        # Experiment 2 (default order: r-eta 6000, then r-zeta/r-eps tie at 5000 by run id).
        ("", ["r-eta", "r-zeta", "r-eps"]),
        ("params.model = 'rf'", ["r-zeta"]),
        ("params.model = 'RF'", ["r-eps"]),
        ("params.model ILIKE 'rf'", ["r-zeta", "r-eps"]),
        ("params.model LIKE 'r_'", ["r-zeta"]),
        ("params.model LIKE 'R%'", ["r-eps"]),
        ("params.model LIKE 'r\\_f'", ["r-eta"]),
        ("params.model LIKE 'r_f'", ["r-eta"]),
        ("tags.team = 'alpha'", []),
        ("tags.team = 'alpha '", ["r-eps"]),
        ("tags.team ILIKE 'alpha'", ["r-zeta"]),
        ("tags.team ILIKE 'alpha%'", ["r-zeta", "r-eps"]),
        ("tags.note LIKE 'a\\%b%'", ["r-eps"]),
        ("tags.note LIKE 'a%b\\_c'", ["r-zeta", "r-eps"]),
        ("tags.note LIKE 'A%'", []),
        ("metrics.big > 1e308", ["r-eps"]),
        ("metrics.big < -1e308", ["r-zeta"]),
        ("metrics.big >= 1e400", ["r-eps"]),
        ("metrics.big > 1e400", []),
        ("metrics.acc != 1", ["r-eta"]),
        ("metrics.acc = 0", []),
        ("run_name = 'éta'", ["r-eta"]),
        ("run_name LIKE '_ta'", ["r-eta"]),
        ("run_name ILIKE 'eps'", ["r-eps"]),
        ("run_name LIKE 'eps'", []),
        ("status = 'KILLED'", ["r-zeta"]),
        # Patterns naming more than 16 letters take SQLite's GLOB fallback; same answers.
        ("tags.sentence LIKE 'The quick brown fox jumps'", ["r-eps"]),
        ("tags.sentence LIKE '%quick brown fox jump_'", ["r-zeta", "r-eps"]),
        ("tags.sentence LIKE 'T% quick brown fox jumps'", ["r-eps"]),
        ("tags.sentence LIKE 'THE QUICK BROWN FOX JUMPS'", []),
        ("tags.sentence ILIKE 'THE QUICK BROWN FOX JUMPS'", ["r-zeta", "r-eps"]),
        ("tags.sentence LIKE 'the quick%'", ["r-zeta"]),
        ("tags.sentence LIKE '_he%'", ["r-zeta", "r-eps"]),
    ],
)
def test_edge_cases(search_db: SearchDb, filter_string: str, expected: list[str]) -> None:
    assert search_db.runs(filter_string, experiment_ids=(2,)) == expected


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [
        (pb.ACTIVE_ONLY, ["r-gamma", "r-alpha"]),
        (pb.DELETED_ONLY, ["r-delta"]),
        (pb.ALL, ["r-delta", "r-gamma", "r-alpha"]),
    ],
)
def test_view_type(search_db: SearchDb, view_type: int, expected: list[str]) -> None:
    assert search_db.runs("params.lr = '0.01'", view_type=view_type) == expected


def test_experiment_ids_select_the_runs(search_db: SearchDb) -> None:
    assert search_db.runs(experiment_ids=(1, 2)) == [
        "r-eta",
        "r-zeta",
        "r-eps",
        "r-gamma",
        "r-beta",
        "r-alpha",
    ]
    assert search_db.runs(experiment_ids=(2,), filter_string="metrics.acc > 0.5") == []
    assert search_db.runs(experiment_ids=(99,)) == []
    assert search_db.runs(experiment_ids=()) == []


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # search-grammar.md §5 order_by examples.
        (["metrics.acc DESC"], ["r-alpha", "r-beta", "r-gamma"]),
        (["metrics.loss DESC"], ["r-alpha", "r-beta", "r-gamma"]),
        (["params.model"], ["r-beta", "r-alpha", "r-gamma"]),
        (["created DESC"], ["r-gamma", "r-beta", "r-alpha"]),
        (["status"], ["r-beta", "r-alpha", "r-gamma"]),
        # NaN after numbers, missing last, in both directions.
        (["metrics.acc"], ["r-gamma", "r-beta", "r-alpha"]),
        (["metrics.loss ASC"], ["r-alpha", "r-beta", "r-gamma"]),
        (["metrics.`my metric` DESC"], ["r-gamma", "r-beta", "r-alpha"]),
        (["params.model DESC"], ["r-alpha", "r-beta", "r-gamma"]),
        (["start_time"], ["r-alpha", "r-beta", "r-gamma"]),
        # Byte-wise string order: 'Alpha' < 'beta', 'Alice' < 'alice' < 'bob'.
        (["tags.team"], ["r-alpha", "r-beta", "r-gamma"]),
        (["tags.team DESC"], ["r-beta", "r-alpha", "r-gamma"]),
        (["user_id"], ["r-gamma", "r-alpha", "r-beta"]),
        (["end_time DESC"], ["r-beta", "r-alpha", "r-gamma"]),
        (["end_time"], ["r-alpha", "r-beta", "r-gamma"]),
        (["run_name DESC"], ["r-gamma", "r-beta", "r-alpha"]),
        (["run_id DESC"], ["r-gamma", "r-beta", "r-alpha"]),
        (["artifact_uri"], ["r-alpha", "r-beta", "r-gamma"]),
        (["params.lr", "metrics.acc DESC"], ["r-alpha", "r-gamma", "r-beta"]),
        (["params.lr DESC", "metrics.acc"], ["r-beta", "r-gamma", "r-alpha"]),
        (["tags.mlflow.runName DESC"], ["r-gamma", "r-beta", "r-alpha"]),
    ],
)
def test_order_by(search_db: SearchDb, order_by: list[str], expected: list[str]) -> None:
    assert search_db.runs(order_by=order_by) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.acc"], ["r-eta", "r-zeta", "r-eps"]),
        (["metrics.acc DESC"], ["r-eta", "r-zeta", "r-eps"]),
        (["metrics.big DESC"], ["r-eps", "r-zeta", "r-eta"]),
        (["metrics.big"], ["r-zeta", "r-eps", "r-eta"]),
        (["params.model"], ["r-eps", "r-eta", "r-zeta"]),
        (["run_name"], ["r-eps", "r-zeta", "r-eta"]),
        (["run_name DESC"], ["r-eta", "r-zeta", "r-eps"]),
        (["start_time DESC"], ["r-eta", "r-zeta", "r-eps"]),
        (["start_time DESC", "run_id DESC"], ["r-eta", "r-eps", "r-zeta"]),
    ],
)
def test_order_by_edge_cases(search_db: SearchDb, order_by: list[str], expected: list[str]) -> None:
    assert search_db.runs(order_by=order_by, experiment_ids=(2,)) == expected


def test_filter_and_order_together(search_db: SearchDb) -> None:
    assert search_db.runs("metrics.acc > 0.6 AND params.model IS NOT NULL", ["metrics.acc"]) == [
        "r-beta",
        "r-alpha",
    ]


def test_paging_walks_every_run_once(search_db: SearchDb) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page, token = search_db.run_page(experiment_ids=(1, 2), max_results=2, page_token=token)
        seen += page
        pages += 1
        if token is None:
            break
    assert pages == 3
    assert seen == ["r-eta", "r-zeta", "r-eps", "r-gamma", "r-beta", "r-alpha"]


def test_no_token_when_the_last_page_is_exactly_full(search_db: SearchDb) -> None:
    first, token = search_db.run_page(experiment_ids=(1, 2), max_results=3)
    assert first == ["r-eta", "r-zeta", "r-eps"]
    assert token is not None
    second, token = search_db.run_page(experiment_ids=(1, 2), max_results=3, page_token=token)
    assert second == ["r-gamma", "r-beta", "r-alpha"]
    assert token is None


def test_paging_with_a_filter_and_an_ordering(search_db: SearchDb) -> None:
    first, token = search_db.run_page(
        filter_string="metrics.acc >= 0.5", order_by=["metrics.acc"], max_results=2
    )
    assert first == ["r-gamma", "r-beta"]
    second, token = search_db.run_page(
        filter_string="metrics.acc >= 0.5", order_by=["metrics.acc"], max_results=2, page_token=token
    )
    assert (second, token) == (["r-alpha"], None)


def test_bad_page_token(search_db: SearchDb) -> None:
    with pytest.raises(RunstashError) as info:
        search_db.runs(page_token="abc")
    assert info.value.message == "Invalid page token, could not base64-decode"
