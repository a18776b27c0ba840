"""The logged-model filter dialect and its structured order_by (search-grammar.md §3.5)."""

# Tables of MLflow's exact messages read best one case per line.
# ruff: noqa: E501

from __future__ import annotations

import pytest
from runstash_metadata.search.logged_model_rules import (
    DatasetFilter,
    LoggedModelEntity,
    LoggedModelFilter,
    LoggedModelOrder,
    order_by_token_form,
    parse_datasets,
    parse_logged_model_filter,
    parse_logged_model_order_by,
)
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

A, M, P, T = (
    LoggedModelEntity.ATTRIBUTE,
    LoggedModelEntity.METRIC,
    LoggedModelEntity.PARAM,
    LoggedModelEntity.TAG,
)
OrderBy = pb.SearchLoggedModels.OrderBy
Dataset = pb.SearchLoggedModels.Dataset


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'lm_a'", [LoggedModelFilter(A, "name", "=", "lm_a")]),
        ("status IN ('PENDING', 'FAILED')", [LoggedModelFilter(A, "status", "IN", (1, 3))]),
        ("status = 'READY'", [LoggedModelFilter(A, "status", "=", 2)]),
        ("status != 'PENDING'", [LoggedModelFilter(A, "status", "!=", 1)]),
        # Double quotes are not stripped: the value keeps them and never matches.
        ('params.depth = "2"', [LoggedModelFilter(P, "depth", "=", '"2"')]),
        ("params.depth = '2'", [LoggedModelFilter(P, "depth", "=", "2")]),
        ("params.a IN ('x', \"y\")", [LoggedModelFilter(P, "a", "IN", ("x", "y"))]),
        (
            "tags.t LIKE 'a%' and tags.u ILIKE 'B'",
            [LoggedModelFilter(T, "t", "LIKE", "a%"), LoggedModelFilter(T, "u", "ILIKE", "B")],
        ),
        ("metrics.acc > 0.5", [LoggedModelFilter(M, "acc", ">", 0.5)]),
        ("metrics.`my metric` <= 1", [LoggedModelFilter(M, "my metric", "<=", 1.0)]),
        ("attributes.name != 'x'", [LoggedModelFilter(A, "name", "!=", "x")]),
        ("creation_time > 5", [LoggedModelFilter(A, "creation_timestamp", ">", 5.0)]),
        ("creation_timestamp >= 5", [LoggedModelFilter(A, "creation_timestamp", ">=", 5.0)]),
        ("last_updated_timestamp < 9", [LoggedModelFilter(A, "last_updated_timestamp", "<", 9.0)]),
        ("model_type NOT IN ('a')", [LoggedModelFilter(A, "model_type", "NOT IN", ("a",))]),
        (
            "source_run_id = 'r1' AND model_id like 'm-%'",
            [
                LoggedModelFilter(A, "source_run_id", "=", "r1"),
                LoggedModelFilter(A, "model_id", "LIKE", "m-%"),
            ],
        ),
        ("name = 1", [LoggedModelFilter(A, "name", "=", "1")]),
    ],
)
def test_accepted(text: str, expected: list[LoggedModelFilter]) -> None:
    assert parse_logged_model_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metric.acc > 0.5",
            "Invalid entity type: 'metric'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
        ),
        (
            "param.a = 'x'",
            "Invalid entity type: 'param'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
        ),
        (
            "attribute.name = 'x'",
            "Invalid entity type: 'attribute'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
        ),
        (
            "name = 'a' OR name = 'b'",
            "Invalid filter string: \"name = 'a' OR name = 'b'\". Expected a list of comparisons separated by "
            "'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').",
        ),
        (
            "(name = 'a')",
            "Invalid filter string: \"(name = 'a')\". Expected a list of comparisons separated by "
            "'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').",
        ),
        (
            "name = 'a'; name = 'b'",
            "Invalid filter string: \"name = 'a'; name = 'b'\". Expected a single SQL expression.",
        ),
        (
            "status = 'LOGGED_MODEL_READY'",
            "Unknown model status in filter: 'LOGGED_MODEL_READY'. Expected one of ['PENDING', 'READY', 'FAILED'].",
        ),
        (
            "status IN ('READY', 'DONE')",
            "Unknown model status in filter: 'DONE'. Expected one of ['PENDING', 'READY', 'FAILED'].",
        ),
        (
            "status LIKE 'R%'",
            "Invalid comparison operator for attributes.status: 'LIKE'. Expected one of ('=', '!=', 'IN', 'NOT IN').",
        ),
        (
            "metrics.acc LIKE 1",
            "Invalid comparison operator for metrics.acc: 'LIKE'. Expected one of ('<', '<=', '>', '>=', '=', '!=').",
        ),
        (
            "name > 'a'",
            "Invalid comparison operator for attributes.name: '>'. Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN').",
        ),
        ("name IS NULL", "Invalid comparison: name IS NULL. Expected a comparison with 3 tokens."),
        (
            "creation_timestamp > '5'",
            "Expected a numeric value for attributes.creation_timestamp. Got value '5'",
        ),
        ("metrics.acc > 'x'", "Expected a numeric value for metrics.acc. Got value 'x'"),
    ],
)
def test_rejected(text: str, message: str) -> None:
    with pytest.raises(RunstashError) as info:
        parse_logged_model_filter(text)
    assert info.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert info.value.message == message


def test_unknown_attribute() -> None:
    with pytest.raises(RunstashError) as info:
        parse_logged_model_filter("foo = 'x'")
    assert info.value.message.startswith("Invalid attribute key 'foo' specified. Valid keys are '{'name'")


def test_order_by_and_tie_breakers() -> None:
    orders = parse_logged_model_order_by(
        [
            OrderBy(field_name="metrics.acc", ascending=False, dataset_name="ds", dataset_digest="d1"),
            OrderBy(field_name="name"),
        ]
    )
    assert orders == [
        LoggedModelOrder("acc", True, False, "ds", "d1"),
        LoggedModelOrder("name", False, True),
        LoggedModelOrder("creation_timestamp", False, False),
        LoggedModelOrder("model_id", False, True),
    ]
    assert parse_logged_model_order_by([]) == [
        LoggedModelOrder("creation_timestamp", False, False),
        LoggedModelOrder("model_id", False, True),
    ]
    assert parse_logged_model_order_by([OrderBy(field_name="creation_time", ascending=True)]) == [
        LoggedModelOrder("creation_timestamp", False, True),
        LoggedModelOrder("model_id", False, True),
    ]


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        (
            OrderBy(field_name="params.x"),
            "Invalid order by field name: params.x. Only metrics are supported.",
        ),
        (OrderBy(field_name="tags.x"), "Invalid order by field name: tags.x. Only metrics are supported."),
        (OrderBy(field_name="foo"), "Invalid order by field name: foo"),
        (OrderBy(), "`field_name` in the `order_by` clause must be specified."),
        (
            OrderBy(field_name="metrics.a", dataset_digest="d"),
            "`dataset_digest` can only be specified if `dataset_name` is also specified.",
        ),
    ],
)
def test_order_by_errors(order_by: pb.SearchLoggedModels.OrderBy, message: str) -> None:
    with pytest.raises(RunstashError) as info:
        parse_logged_model_order_by([order_by])
    assert info.value.message == message


def test_datasets() -> None:
    assert parse_datasets([Dataset(dataset_name="a", dataset_digest="d"), Dataset(dataset_name="b")]) == [
        DatasetFilter("a", "d"),
        DatasetFilter("b", None),
    ]
    with pytest.raises(RunstashError) as info:
        parse_datasets([Dataset(dataset_digest="d")])
    assert info.value.message == "`dataset_name` in the `datasets` clause must be specified."


def test_order_by_token_form_matches_mlflow_handler() -> None:
    assert order_by_token_form(
        [OrderBy(field_name="metrics.a"), OrderBy(field_name="name", ascending=False, dataset_name="x")]
    ) == [
        {"field_name": "metrics.a", "ascending": True, "dataset_name": None, "dataset_digest": None},
        {"field_name": "name", "ascending": False, "dataset_name": "x", "dataset_digest": None},
    ]
