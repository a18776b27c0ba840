"""Experiment filter and order_by rules (search-grammar.md §3.2)."""

# Tables of MLflow's exact messages read best one case per line.
# ruff: noqa: E501

from __future__ import annotations

import pytest
from runstash_metadata.search.experiment_rules import (
    ExperimentEntity,
    ExperimentFilter,
    ExperimentOrder,
    parse_experiment_filter,
    parse_experiment_order_by,
)
from runstash_protos.errors import ErrorCode, RunstashError

A, T = ExperimentEntity.ATTRIBUTE, ExperimentEntity.TAG


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name ILIKE 'def%'", [ExperimentFilter(A, "name", "ILIKE", "def%")]),
        ("name = 'default'", [ExperimentFilter(A, "name", "=", "default")]),
        ("tags.owner IS NULL", [ExperimentFilter(T, "owner", "IS NULL", None)]),
        ("experiment_id IN ('0', '6')", [ExperimentFilter(A, "experiment_id", "IN", (0, 6))]),
        (
            "last_update_time >= 0 AND tags.owner LIKE 'al%'",
            [ExperimentFilter(A, "last_update_time", ">=", 0), ExperimentFilter(T, "owner", "LIKE", "al%")],
        ),
        ("attributes.name != 'x'", [ExperimentFilter(A, "name", "!=", "x")]),
        ("attribute.name LIKE 'x'", [ExperimentFilter(A, "name", "LIKE", "x")]),
        ("tag.`a b` = 'v'", [ExperimentFilter(T, "a b", "=", "v")]),
        ("tags.k IS NOT NULL", [ExperimentFilter(T, "k", "IS NOT NULL", None)]),
        ("experiment_id = '3'", [ExperimentFilter(A, "experiment_id", "=", 3)]),
        ("experiment_id NOT IN ('3')", [ExperimentFilter(A, "experiment_id", "NOT IN", (3,))]),
        ("creation_time < 5", [ExperimentFilter(A, "creation_time", "<", 5)]),
    ],
)
def test_accepted(text: str, expected: list[ExperimentFilter]) -> None:
    assert parse_experiment_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name IN ('Default')",
            "Only ['experiment_id'] attributes support comparison with a list of quoted string values.",
        ),
        ("experiment_id > '0'", "Invalid comparator for experiment_id: >"),
        ("experiment_id LIKE '0'", "Invalid comparator for experiment_id: LIKE"),
        ("creation_time > 1.5", "Invalid value for numeric attribute 'creation_time': '1.5'"),
        (
            "creation_time > '5'",
            "Expected numeric value type for numeric attribute: creation_time. Found '5'",
        ),
        ("creation_time LIKE 5", "Invalid comparator for numeric attribute: LIKE"),
        (
            "metrics.a > 1",
            "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'attributes', 'tag', 'tags')",
        ),
        (
            "params.a = 'x'",
            "Invalid entity type 'params'. Valid entity types are ('attribute', 'attributes', 'tag', 'tags')",
        ),
        ("name IS NULL", "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"),
        ("experiment_id = 'abc'", "Invalid experiment ID 'abc'. Experiment ID must be a valid integer."),
        ("experiment_id IN ('1', 'x')", "Invalid experiment ID 'x'. Experiment ID must be a valid integer."),
        ("experiment_id = 0", "Expected a quoted string value for attributes. Got value 0"),
        ("name > 'a'", "Invalid comparator for string attribute: >"),
        ("tags.a > 'x'", "Invalid comparator for tag: >"),
        ("tags.a = 1", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"),
        (
            "name = Default",
            "Parameter value is either not quoted or unidentified quote types used for string value Default. Use either single or double quotes.",
        ),
        ("name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: OR"),  # unquoted, as mlflow
        (
            "experiment_id IN ()",
            "While parsing a list in the query, expected a non-empty list of string values, but got empty list",
        ),
    ],
)
def test_rejected(text: str, message: str) -> None:
    with pytest.raises(RunstashError) as info:
        parse_experiment_filter(text)
    assert info.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert info.value.message == message


def test_unknown_attribute() -> None:
    with pytest.raises(RunstashError) as info:
        parse_experiment_filter("artifact_location = 'x'")
    assert info.value.message == (
        "Invalid attribute key 'artifact_location' specified. Valid keys are "
        "'{'name', 'experiment_id', 'creation_time', 'last_update_time'}'"
    )


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([], [ExperimentOrder("creation_time", False), ExperimentOrder("experiment_id", True)]),
        (["name"], [ExperimentOrder("name", True), ExperimentOrder("experiment_id", False)]),
        (
            ["last_update_time DESC"],
            [ExperimentOrder("last_update_time", False), ExperimentOrder("experiment_id", False)],
        ),
        (["experiment_id asc"], [ExperimentOrder("experiment_id", True)]),
        (["attributes.name desc"], [ExperimentOrder("name", False), ExperimentOrder("experiment_id", False)]),
    ],
)
def test_order_by(order_by: list[str], expected: list[ExperimentOrder]) -> None:
    assert parse_experiment_order_by(order_by) == expected


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        (["tags.x"], "Invalid order_by entity: tag"),
        (["name sideways"], "Invalid ordering key in order_by clause 'name sideways'."),
        (
            ["foo"],
            "Invalid attribute key 'foo' specified. Valid keys are '{'name', 'experiment_id', 'creation_time', 'last_update_time'}'",
        ),
    ],
)
def test_order_by_errors(order_by: list[str], message: str) -> None:
    with pytest.raises(RunstashError) as info:
        parse_experiment_order_by(order_by)
    assert info.value.message == message
