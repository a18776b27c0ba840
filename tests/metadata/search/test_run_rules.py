"""Run filter and order_by rules (search-grammar.md §3.1): what is accepted, what it means, and
MLflow's message for everything that is not."""

# Tables of MLflow's exact messages read best one case per line.
# ruff: noqa: E501

from __future__ import annotations

import pytest
from runstash_metadata.search.run_rules import (
    RunEntity,
    RunFilter,
    RunOrder,
    parse_run_filter,
    parse_run_order_by,
)
from runstash_protos.errors import ErrorCode, RunstashError

M, P, T, A, D = RunEntity.METRIC, RunEntity.PARAM, RunEntity.TAG, RunEntity.ATTRIBUTE, RunEntity.DATASET


def _error(text: str) -> str:
    with pytest.raises(RunstashError) as info:
        parse_run_filter(text)
    assert info.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    return info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The accepted examples of search-grammar.md §5 (runs).
        ("metrics.acc > 0.8", [RunFilter(M, "acc", ">", 0.8)]),
        (
            "metrics.acc >= 0.5 AND params.lr = '0.01'",
            [RunFilter(M, "acc", ">=", 0.5), RunFilter(P, "lr", "=", "0.01")],
        ),
        ("metric.acc < 0.8", [RunFilter(M, "acc", "<", 0.8)]),
        ('params.model = "rf"', [RunFilter(P, "model", "=", "rf")]),
        ("params.model != 'rf'", [RunFilter(P, "model", "!=", "rf")]),
        ("params.model IS NULL", [RunFilter(P, "model", "IS NULL", None)]),
        ("tags.team ILIKE 'a%'", [RunFilter(T, "team", "ILIKE", "a%")]),
        ("tags.team LIKE 'a%'", [RunFilter(T, "team", "LIKE", "a%")]),
        ("tags.`mlflow.source.type` = 'LOCAL'", [RunFilter(T, "mlflow.source.type", "=", "LOCAL")]),
        ("tags.`my tag` = 'x'", [RunFilter(T, "my tag", "=", "x")]),
        ("metrics.`my metric` < 0", [RunFilter(M, "my metric", "<", 0.0)]),
        ("metrics.loss != 0.2", [RunFilter(M, "loss", "!=", 0.2)]),
        ("metrics.loss > -1", [RunFilter(M, "loss", ">", -1.0)]),
        ("metrics.acc > 5e-1", [RunFilter(M, "acc", ">", 0.5)]),
        ("status != 'RUNNING'", [RunFilter(A, "status", "!=", "RUNNING")]),
        (
            "attributes.run_id IN ('a1', 'b2')",
            [RunFilter(A, "run_id", "IN", ("a1", "b2"))],
        ),
        ("attributes.run_name LIKE 'r-a%'", [RunFilter(A, "run_name", "LIKE", "r-a%")]),
        ("`Run name` = 'r-beta'", [RunFilter(A, "run_name", "=", "r-beta")]),
        ("`run name` = 'r'", [RunFilter(A, "run_name", "=", "r")]),
        ("`Run Name` = 'r'", [RunFilter(A, "run_name", "=", "r")]),
        ("tags.mlflow.runName = 'r-beta'", [RunFilter(T, "mlflow.runName", "=", "r-beta")]),
        ("created >= 3000", [RunFilter(A, "start_time", ">=", 3000)]),
        ("Created >= 3000", [RunFilter(A, "start_time", ">=", 3000)]),
        (
            "dataset.context = 'train' AND dataset.digest = 'abc123'",
            [RunFilter(D, "context", "=", "train"), RunFilter(D, "digest", "=", "abc123")],
        ),
        ("datasets.name IN ('iris', 'wine')", [RunFilter(D, "name", "IN", ("iris", "wine"))]),
        (
            "params.lr = '0.01' AND params.lr = '0.1'",
            [RunFilter(P, "lr", "=", "0.01"), RunFilter(P, "lr", "=", "0.1")],
        ),
        ("params.model LIKE '_f'", [RunFilter(P, "model", "LIKE", "_f")]),
        # Every prefix alias.
        ("parameters.a = 'x'", [RunFilter(P, "a", "=", "x")]),
        ("parameter.a = 'x'", [RunFilter(P, "a", "=", "x")]),
        ("param.a = 'x'", [RunFilter(P, "a", "=", "x")]),
        ("tag.a = 'x'", [RunFilter(T, "a", "=", "x")]),
        ("attribute.status = 'x'", [RunFilter(A, "status", "=", "x")]),
        ("attr.status = 'x'", [RunFilter(A, "status", "=", "x")]),
        ("run.status = 'x'", [RunFilter(A, "status", "=", "x")]),
        ("`params`.lr = 'x'", [RunFilter(P, "lr", "=", "x")]),
        # Other accepted forms.
        ("tags.a IS NOT NULL", [RunFilter(T, "a", "IS NOT NULL", None)]),
        ("params.a ILIKE '%X%'", [RunFilter(P, "a", "ILIKE", "%X%")]),
        ("start_time > 1.5", [RunFilter(A, "start_time", ">", 1.5)]),
        ("end_time <= 7", [RunFilter(A, "end_time", "<=", 7)]),
        ("run_id NOT IN ('a')", [RunFilter(A, "run_id", "NOT IN", ("a",))]),
        ("user_id ILIKE 'Bob'", [RunFilter(A, "user_id", "ILIKE", "Bob")]),
        ("artifact_uri LIKE 's3://%'", [RunFilter(A, "artifact_uri", "LIKE", "s3://%")]),
        ("datasets.digest NOT IN ('x')", [RunFilter(D, "digest", "NOT IN", ("x",))]),
        ("metrics.big > 1e400", [RunFilter(M, "big", ">", 1.7976931348623157e308)]),
    ],
)
def test_accepted(text: str, expected: list[RunFilter]) -> None:
    assert parse_run_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "attributes.status IN ('FINISHED','FAILED')",
            "Only ['run_id'] attributes support comparison with a list of quoted string values.",
        ),
        (
            "user_id NOT IN ('a')",
            "Only ['run_id'] attributes support comparison with a list of quoted string values.",
        ),
        (
            "attributes.end_time IS NULL",
            "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'end_time'",
        ),
        (
            "run_id IS NOT NULL",
            "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'run_id'",
        ),
        (
            "metrics.acc IS NULL",
            "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'acc'",
        ),
        (
            "datasets.name IS NULL",
            "IS NULL / IS NOT NULL is only supported for tags and params, not for 'dataset' 'name'",
        ),
        (
            "params.lr = 0.01",
            "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 0.01",
        ),
        ("params.lr = 1", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1"),
        (
            "params.lr IN ('a')",
            "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')",
        ),
        (
            "params.lr NOT IN ('a')",
            "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')",
        ),
        ("tags.t = 5", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5"),
        (
            "foo.bar = 'x'",
            "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
        ),
        ("metrics.acc > '0.5'", "Expected numeric value type for metric. Found '0.5'"),
        ("metrics.acc IN ('a')", "Expected numeric value type for metric. Found ('a')"),
        (
            "status = RUNNING",
            "Parameter value is either not quoted or unidentified quote types used for string value RUNNING. Use either single or double quotes.",
        ),
        (
            "params.a = `x`",
            "Parameter value is either not quoted or unidentified quote types used for string value `x`. Use either single or double quotes.",
        ),
        ("start_time = 'x'", "Expected numeric value type for numeric attribute: start_time. Found 'x'"),
        ("created > '5'", "Expected numeric value type for numeric attribute: created. Found '5'"),
        ("status = 1", "Expected a quoted string value for attributes. Got value 1"),
        (
            "datasets.foo = 'x'",
            "Invalid dataset key 'foo' specified. Valid keys are '{'name', 'digest', 'context'}'",
        ),
        ("datasets.name = 1", "Expected a quoted string value for dataset attributes. Got value 1"),
        (
            "run_id IN ()",
            "While parsing a list in the query, expected a non-empty list of string values, but got empty list",
        ),
        (
            "run_id IN (1, 2)",
            "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1, 2)",
        ),
        (
            "run_id IN ('a', 2.5)",
            "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ('a', 2.5)",
        ),
        ("metrics.acc LIKE 1", "Invalid comparator 'LIKE' not one of '{'=', '!=', '<', '<=', '>', '>='}'"),
        # Any run of comparison symbols is a comparator, refused by the entity (checked on mlflow).
        ("metrics.acc == 1", "Invalid comparator '==' not one of '{'=', '!=', '<', '<=', '>', '>='}"),
        ("metrics.x >> 1", "Invalid comparator '>>' not one of '{'=', '!=', '<', '<=', '>', '>='}"),
        (
            "params.a <> 'x'",
            "Invalid comparator '<>' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'",
        ),
        (
            "params.a > 'x'",
            "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'",
        ),
        ("status < 'x'", "Invalid comparator '<' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"),
        ("start_time LIKE 5", "Invalid comparator 'LIKE' not one of '{'=', '!=', '<', '<=', '>', '>='}'"),
        (
            "datasets.name > 'a'",
            "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'",
        ),
        ("run_id = ('a')", "Invalid clause(s) in filter string: 'run_id = ('a')'"),
        ("run_id IN 'a'", "Invalid clause(s) in filter string: 'run_id IN 'a''"),
        ("metrics.acc > 0.5 OR params.lr = '0.01'", "Invalid clause(s) in filter string: 'OR'"),
    ],
)
def test_rejected(text: str, message: str) -> None:
    assert _error(text) == message


def test_unknown_attribute_lists_the_valid_keys() -> None:
    message = _error("attributes.foo = 'x'")
    assert message.startswith("Invalid attribute key 'foo' specified. Valid keys are '{")
    for key in ("run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time"):
        assert f"'{key}'" in message
    assert "lifecycle_stage" in _error("lifecycle_stage = 'active'")


def test_default_order_is_start_time_desc_then_run_id() -> None:
    assert parse_run_order_by([]) == [RunOrder(A, "start_time", False), RunOrder(A, "run_id", True)]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (
            ["metrics.acc DESC"],
            [RunOrder(M, "acc", False), RunOrder(A, "start_time", False), RunOrder(A, "run_id", True)],
        ),
        (
            ["params.model"],
            [RunOrder(P, "model", True), RunOrder(A, "start_time", False), RunOrder(A, "run_id", True)],
        ),
        (["created DESC"], [RunOrder(A, "start_time", False), RunOrder(A, "run_id", True)]),
        (["start_time ASC"], [RunOrder(A, "start_time", True), RunOrder(A, "run_id", True)]),
        (["run_id DESC"], [RunOrder(A, "run_id", False), RunOrder(A, "start_time", False)]),
        (
            ["tags.`a b`", "run_name"],
            [
                RunOrder(T, "a b", True),
                RunOrder(A, "run_name", True),
                RunOrder(A, "start_time", False),
                RunOrder(A, "run_id", True),
            ],
        ),
        (
            ["status", "end_time desc"],
            [
                RunOrder(A, "status", True),
                RunOrder(A, "end_time", False),
                RunOrder(A, "start_time", False),
                RunOrder(A, "run_id", True),
            ],
        ),
    ],
)
def test_order_by(order_by: list[str], expected: list[RunOrder]) -> None:
    assert parse_run_order_by(order_by) == expected


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        (
            ["start_time asc", "start_time desc"],
            "`order_by` contains duplicate fields: ['start_time asc', 'start_time desc']",
        ),
        (["created", "start_time"], "`order_by` contains duplicate fields: ['created', 'start_time']"),
        (
            ["metrics.a", "metrics.a DESC"],
            "`order_by` contains duplicate fields: ['metrics.a', 'metrics.a DESC']",
        ),
        (["params.x sideways"], "Invalid ordering key in order_by clause 'params.x sideways'."),
        (
            ["foo.x"],
            "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
        ),
        (["datasets.name"], "Invalid identifier type 'dataset'"),
    ],
)
def test_order_by_errors(order_by: list[str], message: str) -> None:
    with pytest.raises(RunstashError) as info:
        parse_run_order_by(order_by)
    assert info.value.message == message
    # MLflow answers 500 for duplicates; the brief asks for 400 across the board.
    assert info.value.http_status == 400


@pytest.mark.parametrize("key", ["`Run name`", "`run name`", "lifecycle_stage", "experiment_id"])
def test_order_by_rejects_filter_only_aliases_and_unknown_attributes(key: str) -> None:
    with pytest.raises(RunstashError) as info:
        parse_run_order_by([key])
    assert info.value.message.startswith("Invalid attribute key '")
    assert "'created'" in info.value.message
