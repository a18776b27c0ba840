"""Page tokens: MLflow's base64 JSON, and the checks on tokens coming back (search-grammar.md §4)."""

# Tables of MLflow's exact messages read best one case per line.
# ruff: noqa: E501

from __future__ import annotations

import base64

import pytest
from runstash_metadata.search.page_token import (
    decode_logged_model_token,
    decode_offset,
    encode_logged_model_token,
    encode_offset,
)
from runstash_protos.errors import RunstashError


def test_offset_token_is_byte_compatible_with_mlflow() -> None:
    assert encode_offset(1) == "eyJvZmZzZXQiOiAxfQ=="
    assert decode_offset("eyJvZmZzZXQiOiAxfQ==") == 1
    assert decode_offset(encode_offset(12345)) == 12345
    assert decode_offset(None) == 0
    assert decode_offset("") == 0


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("abc", "Invalid page token, could not base64-decode"),
        (_b64("not json"), "Invalid page token, decoded value=b'not json'"),
        (_b64('{"offset": 0}'), "Invalid page token, parsed value={'offset': 0}"),
        (_b64('{"x": 1}'), "Invalid page token, parsed value={'x': 1}"),
        (_b64("[1]"), "Invalid page token, parsed value=[1]"),
        (_b64('{"offset": "abc"}'), "Invalid page token, not stringable abc"),
        (_b64('{"offset": -5}'), "Invalid page token, parsed value={'offset': -5}"),
    ],
)
def test_bad_offset_tokens(token: str, message: str) -> None:
    with pytest.raises(RunstashError) as info:
        decode_offset(token)
    assert info.value.message == message
    assert info.value.http_status == 400


ORDER = [{"field_name": "name", "ascending": True, "dataset_name": None, "dataset_digest": None}]


def test_logged_model_token_round_trip_and_mlflow_layout() -> None:
    token = encode_logged_model_token(["1"], "name = 'a'", ORDER, 50)
    assert base64.b64decode(token).decode().startswith('{"experiment_ids": ["1"], "filter_string": ')
    assert decode_logged_model_token(token, ["1"], "name = 'a'", ORDER) == 50
    assert decode_logged_model_token(None, ["1"], None, None) == 0


@pytest.mark.parametrize(
    ("ids", "filter_string", "order_by", "message"),
    [
        (
            ["2"],
            "name = 'a'",
            ORDER,
            "Experiment IDs in the page token do not match the requested experiment IDs. Expected: ['2']. Found: ['1']",
        ),
        (
            ["1"],
            None,
            ORDER,
            "Filter string in the page token does not match the requested filter string. Expected: None. Found: name = 'a'",
        ),
        (
            ["1"],
            "name = 'a'",
            None,
            "Order by in the page token does not match the requested order by. Expected: None. Found: "
            + str(ORDER),
        ),
    ],
)
def test_logged_model_token_must_match_the_request(
    ids: list[str], filter_string: str | None, order_by: list[dict[str, object]] | None, message: str
) -> None:
    token = encode_logged_model_token(["1"], "name = 'a'", ORDER, 50)
    with pytest.raises(RunstashError) as info:
        decode_logged_model_token(token, ids, filter_string, order_by)
    assert info.value.message == message
    assert info.value.http_status == 400


def test_logged_model_token_not_base64() -> None:
    with pytest.raises(RunstashError) as info:
        decode_logged_model_token("abc", ["1"], None, None)
    assert info.value.message == "Invalid page token, could not base64-decode"
