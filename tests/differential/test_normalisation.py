"""The comparison machinery itself (no servers): normalisation must hide only what is
legitimately different (ids, server clocks, unspecified order) and never a real difference."""

from __future__ import annotations

from tests.differential.scenario import SCENARIO, T0
from tests.differential.test_differential import Observed, _normalise, differences


def _same_everywhere(body: object) -> list[Observed]:
    return [Observed(step.name, 200, True, body, "") for step in SCENARIO]


def test_ids_clocks_and_key_order_are_normalised() -> None:
    subs = [("0123456789abcdef0123456789abcdef", "<run1>")]
    a = _normalise(
        {
            "run": {
                "info": {
                    "run_id": "0123456789abcdef0123456789abcdef",
                    "start_time": T0,
                    "end_time": T0 + 5000,
                },
                "data": {"tags": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}]},
            },
            "message": "Run 'x' not one of '{'>', '<='}'",
        },
        subs,
    )
    assert a["run"]["info"] == {"run_id": "<run1>", "start_time": T0, "end_time": T0 + 5000}
    assert [t["key"] for t in a["run"]["data"]["tags"]] == ["a", "b"]
    assert a["message"] == "Run 'x' not one of '{'<=', '>'}'"
    assert _normalise({"last_update_time": T0 + 10**9}, [])["last_update_time"] == "<ts>"


def test_a_real_difference_is_reported_with_its_path() -> None:
    ref = _same_everywhere({"run": {"data": {"params": [{"key": "p", "value": "1"}]}}})
    cand = _same_everywhere({"run": {"data": {"params": [{"key": "p", "value": "2"}]}}})
    found = differences(ref, cand)
    assert len(found) == sum(1 for s in SCENARIO if s.compare == "full")
    assert "$[2].run.data.params[0].value" in found[0]
    assert (
        differences(ref, _same_everywhere({"run": {"data": {"params": [{"key": "p", "value": "1"}]}}})) == []
    )


def test_status_and_json_ness_always_count() -> None:
    ref = _same_everywhere({})
    cand = [Observed(o.step, 404, False, None, "") for o in ref]
    assert len(differences(ref, cand)) == len(SCENARIO)
