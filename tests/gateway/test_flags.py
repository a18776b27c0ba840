"""The one boolean parser every runstash process reads its environment flags with."""

from __future__ import annotations

import pytest
from runstash_protos.flags import parse_bool


@pytest.mark.parametrize("word", ["1", "true", "TRUE", "yes", "Yes", "on", "ON", " on "])
def test_true_words(word: str) -> None:
    assert parse_bool(word, False) is True


@pytest.mark.parametrize("word", ["0", "false", "False", "no", "NO", "off", "Off"])
def test_false_words(word: str) -> None:
    assert parse_bool(word, True) is False


@pytest.mark.parametrize("default", [True, False])
def test_unset_or_empty_gives_the_default(default: bool) -> None:
    assert parse_bool(None, default) is default
    assert parse_bool("", default) is default
    assert parse_bool("  ", default) is default


@pytest.mark.parametrize("word", ["2", "enabled", "y", "t", "truthy", "-1"])
def test_anything_else_is_refused_with_the_value_named(word: str) -> None:
    with pytest.raises(ValueError, match=repr(word).replace("-", r"\-")):
        parse_bool(word, False)
