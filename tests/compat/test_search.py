"""search_runs (filters, order_by, paging, view types, fluent pandas/list output) and metric
history through the stock mlflow client (tutorial-trace.md §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.compat.scripts import section

if TYPE_CHECKING:
    from tests.conftest import RunningServer


@pytest.mark.timeout(600)
def test_search_and_history_via_stock_client(
    tracking_server: RunningServer, tracking_results: dict[str, Any]
) -> None:
    out: dict[str, Any] = section(tracking_results, "search")
    all_desc = [f"r{i}" for i in range(6, -1, -1)]

    assert out["default_order"] == all_desc  # start_time DESC
    assert out["metric_and_param"] == ["r4", "r6"]
    assert out["metric_desc"] == all_desc
    assert out["param_then_metric"] == ["r6", "r4", "r2", "r0", "r5", "r3", "r1"]
    assert out["tag_filter"] == ["r1", "r3", "r5"]
    assert out["status_filter"] == ["r0", "r1", "r2"]
    assert out["name_like"] == ["r5", "r6"]
    assert out["name_ilike"] == ["r1"]
    assert out["run_id_in"] == ["r1", "r2"]
    assert out["start_time_asc"] == list(reversed(all_desc))
    assert out["two_experiments"] == ["o1", "r0", "r2", "r4", "r6"]
    # runs without the metric sort last in both directions
    assert out["missing_last_desc"] == ["r5", "r3", "r0", "r1", "r2", "r4", "r6"]
    assert out["missing_last_asc"] == ["r3", "r5", "r0", "r1", "r2", "r4", "r6"]

    assert out["paged"] == {"pages": [3, 3, 1], "names": [f"r{i}" for i in range(7)]}
    assert out["pandas"] == {"rows": 5, "has_columns": True, "first_m0": 0.6}
    assert out["fluent_list"] == ["r3"]
    assert out["fluent_by_name"] == 7
    assert out["fluent_paged"] == [f"r{i}" for i in range(7)]
    assert out["fluent_paged_limited"] == 5

    assert out["view_active"] == 6
    assert out["view_deleted"] == ["r6"]
    assert out["view_all"] == 7

    for key in ("bad_filter", "bad_or", "bad_order"):
        assert out[key] is not None, key
        assert out[key]["error_code"] == "INVALID_PARAMETER_VALUE", key

    assert out["history"] == {"n": 2500, "steps": True, "values_match_steps": True, "latest": 2499.0}
    # MLflow answers an unknown run id in get-history with an empty list, not a 404
    assert out["history_unknown_run"] is None
