"""The shared filter and order_by grammar (search-grammar.md §1-2), before any per-entity rule."""

from __future__ import annotations

import pytest
from runstash_metadata.search.ast import (
    BareValue,
    Identifier,
    ListValue,
    NumberValue,
    StringValue,
)
from runstash_metadata.search.parser import parse_filter, parse_order_by
from runstash_protos.errors import ErrorCode, RunstashError


def _error(text: str) -> str:
    with pytest.raises(RunstashError) as info:
        parse_filter(text)
    assert info.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert info.value.http_status == 400
    return info.value.message


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_empty_filter_matches_everything(text: str | None) -> None:
    assert parse_filter(text) == []


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("metrics.acc > 1", Identifier("metrics", "acc")),
        ("tags.mlflow.runName = 'x'", Identifier("tags", "mlflow.runName")),
        ("tags.`my tag` = 'x'", Identifier("tags", "my tag")),
        ("tags.\"mlflow.source.type\" = 'x'", Identifier("tags", "mlflow.source.type")),
        ("params.`lr` = 'x'", Identifier("params", "lr")),
        ("`params`.lr = 'x'", Identifier("params", "lr", entity_quoted=True)),
        ("`Run name` = 'x'", Identifier(None, "Run name")),
        ("status = 'x'", Identifier(None, "status")),
        ("metrics.1st_try > 1", Identifier("metrics", "1st_try")),
        ("tags.`a.b c` = 'x'", Identifier("tags", "a.b c")),
    ],
)
def test_identifier_splits_at_first_dot_and_strips_quotes(text: str, identifier: Identifier) -> None:
    (clause,) = parse_filter(text)
    assert clause.identifier == identifier


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("a = 'x'", "="),
        ("a != 'x'", "!="),
        ("a < 1", "<"),
        ("a <= 1", "<="),
        ("a > 1", ">"),
        ("a >= 1", ">="),
        ("a LIKE 'x'", "LIKE"),
        ("a like 'x'", "LIKE"),
        ("a ILIKE 'x'", "ILIKE"),
        ("a iLike 'x'", "ILIKE"),
        ("a IN ('x')", "IN"),
        ("a in ('x')", "IN"),
        ("a NOT IN ('x')", "NOT IN"),
        ("a not  in ('x')", "NOT IN"),
        ("a IS NULL", "IS NULL"),
        ("a is null", "IS NULL"),
        ("a IS NOT NULL", "IS NOT NULL"),
        ("a is not null", "IS NOT NULL"),
        ("a>1", ">"),
        ("a='x'", "="),
    ],
)
def test_comparators_any_case(text: str, op: str) -> None:
    (clause,) = parse_filter(text)
    assert clause.op == op


def test_null_tests_have_no_value() -> None:
    (clause,) = parse_filter("tags.a IS NOT NULL")
    assert clause.value is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a = 'x y'", StringValue("x y", "'", "'x y'")),
        ('a = "rf"', StringValue("rf", '"', '"rf"')),
        ("a = 'O''Brien'", None),  # see test_no_escape_processing
        ("a = ''", StringValue("", "'", "''")),
        ("a = 'it\"s'", StringValue('it"s', "'", "'it\"s'")),
        ("a > -1", NumberValue("-1")),
        ("a > +1", NumberValue("+1")),
        ("a > 5e-1", NumberValue("5e-1")),
        ("a > 0.91", NumberValue("0.91")),
        ("a > 1E3", NumberValue("1E3")),
        ("a = RUNNING", BareValue("RUNNING")),
        ("a = `x`", BareValue("`x`")),
        ("a = 1abc", BareValue("1abc")),
    ],
)
def test_values(text: str, value: object) -> None:
    if value is None:
        return
    (clause,) = parse_filter(text)
    assert clause.value == value


def test_no_escape_processing() -> None:
    # 'O''Brien' is the literal O''Brien on the real server: two adjacent quotes are not an escape.
    (clause,) = parse_filter("params.x = 'O''Brien'")
    assert clause.value == StringValue("O''Brien", "'", "'O''Brien'")


def test_lists() -> None:
    (clause,) = parse_filter("run_id IN ('a', \"b\",'c' )")
    assert isinstance(clause.value, ListValue)
    assert clause.value.strings() == ("a", "b", "c")
    (clause,) = parse_filter("run_id IN ()")
    assert isinstance(clause.value, ListValue)
    assert clause.value.items == ()
    (clause,) = parse_filter("run_id IN (1, 'a')")
    assert isinstance(clause.value, ListValue)
    assert not clause.value.all_strings


def test_and_joins_any_case_and_keeps_order() -> None:
    clauses = parse_filter("metrics.acc > 0.5 and params.lr = '0.01' AND tags.t IS NULL")
    assert [c.identifier.key for c in clauses] == ["acc", "lr", "t"]
    assert clauses[0].text == "metrics.acc > 0.5"


def test_two_clauses_on_the_same_key_are_both_kept() -> None:
    clauses = parse_filter("metrics.acc > 0.5 AND metrics.acc < 0.95")
    assert [(c.op, c.value) for c in clauses] == [(">", NumberValue("0.5")), ("<", NumberValue("0.95"))]


def test_and_inside_a_string_is_not_a_separator() -> None:
    (clause,) = parse_filter("tags.note = 'this AND that'")
    assert clause.value == StringValue("this AND that", "'", "'this AND that'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.acc > 0.5 OR params.lr = '0.01'", "Invalid clause(s) in filter string: 'OR'"),
        ("(metrics.acc > 0.5)", "Invalid clause(s) in filter string: '(metrics.acc > 0.5)'"),
        (
            "params.a = 'b' AND (metrics.acc > 0.5)",
            "Invalid clause(s) in filter string: '(metrics.acc > 0.5)'",
        ),
        ("metrics.acc", "Invalid clause(s) in filter string: 'metrics.acc'"),
        ("metrics.acc >", "Invalid clause(s) in filter string: 'metrics.acc >'"),
        ("metrics.acc > 1 AND", "Invalid clause(s) in filter string: 'AND'"),
        ("params.a = 'x' params.b = 'y'", "Invalid clause(s) in filter string: 'params.b'"),
        ("params.a = 'unterminated", "Invalid clause(s) in filter string: 'params.a = 'unterminated'"),
        ("params.my-key = 'x'", "Invalid clause(s) in filter string: 'params.my-key = 'x''"),
        ("params.a NOT LIKE 'x'", "Invalid clause(s) in filter string: 'params.a NOT LIKE 'x''"),
        ("run_id IN ('a'", "Invalid clause(s) in filter string: 'run_id IN ('a''"),
        (
            "metrics.acc > 1 AND foo AND params.a = 'b'",
            "Invalid clause(s) in filter string: 'foo'",
        ),
        ("tags. = 'x'", "Invalid clause(s) in filter string: 'tags. = 'x''"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    assert _error(text) == message


def test_multiple_statements() -> None:
    text = "metrics.acc > 0.5; params.a = 'b'"
    assert _error(text) == (
        f"Search filter contained multiple expression {text!r}. Provide AND-ed expression list."
    )


def test_semicolon_inside_a_string_is_data() -> None:
    (clause,) = parse_filter("params.a = 'x;y'")
    assert clause.value == StringValue("x;y", "'", "'x;y'")


@pytest.mark.parametrize(
    ("text", "identifier", "ascending"),
    [
        ("metrics.acc", Identifier("metrics", "acc"), True),
        ("metrics.acc DESC", Identifier("metrics", "acc"), False),
        ("metrics.acc desc", Identifier("metrics", "acc"), False),
        ("start_time asc", Identifier(None, "start_time"), True),
        ("metrics.`my metric` DESC", Identifier("metrics", "my metric"), False),
        ("  params.model  ", Identifier("params", "model"), True),
        ("tags.mlflow.runName Asc", Identifier("tags", "mlflow.runName"), True),
    ],
)
def test_order_by_items(text: str, identifier: Identifier, ascending: bool) -> None:
    item = parse_order_by(text)
    assert item.identifier == identifier
    assert item.ascending is ascending


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("params.x sideways", "Invalid ordering key in order_by clause 'params.x sideways'."),
        ("params.x asc desc", "Invalid order_by clause 'params.x asc desc'. Could not be parsed."),
        ("", "Invalid order_by clause ''. Could not be parsed."),
        ("-x", "Invalid order_by clause '-x'. Could not be parsed."),
    ],
)
def test_order_by_errors(text: str, message: str) -> None:
    with pytest.raises(RunstashError) as info:
        parse_order_by(text)
    assert info.value.message == message
    assert info.value.code is ErrorCode.INVALID_PARAMETER_VALUE
