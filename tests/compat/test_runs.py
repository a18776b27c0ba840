"""Runs through the stock mlflow client: start/end, params, metrics (steps, NaN, +-inf), tags,
log_batch (client-side splitting), nested and failed runs, delete/restore, and the error codes the
client surfaces (tutorial-trace.md §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.compat.scripts import section

if TYPE_CHECKING:
    from tests.conftest import RunningServer


def _code(err: Any) -> str | None:
    return None if err is None else str(err["error_code"])


@pytest.mark.timeout(600)
def test_run_tracking_via_stock_client(
    tracking_server: RunningServer, tracking_results: dict[str, Any]
) -> None:
    out: dict[str, Any] = section(tracking_results, "runs")

    assert out["active_status"] == "RUNNING"
    assert _code(out["param_change"]) == "INVALID_PARAMETER_VALUE"
    r1 = out["r1"]
    assert r1["status"] == "FINISHED"
    assert r1["name"] == "r1"
    assert r1["stage"] == "active"
    assert r1["exp"] == out["exp_id"]
    assert r1["end_after_start"] is True
    assert r1["artifact_uri"].startswith("mlflow-artifacts:/")
    assert r1["artifact_uri"].endswith("/artifacts")
    assert r1["params"] == {"lr": "0.01", "a": "1", "b": "x"}
    # latest value per key = highest step; NaN kept; +-inf read back as +-max double (MLflow SQL store)
    assert r1["metrics"] == {
        "loss": "nan",
        "acc": 1.7976931348623157e308,
        "neg": -1.7976931348623157e308,
        "zero": 0.0,
        "m1": 1.0,
        "m2": 2.0,
    }
    assert r1["tags"] == {
        "team": "a",
        "k": "v",
        "k2": "v2",
        "k3": "v3",
        "mlflow.note.content": "my description",
        "mlflow.runName": "r1",
    }
    assert r1["has_user_tag"] is True
    assert out["hist_loss"] == [[0, 0.5], [1, 0.4], [2, "nan"]]
    assert out["hist_acc"] == [[0, 1.7976931348623157e308]]
    assert out["hist_missing_key"] == []

    batch = out["batch"]
    assert batch["n_params"] == 120
    assert batch["p119"] == "119"
    assert batch["hist_len"] == 1501
    assert batch["hist_steps_min_max"] == [0, 1499]
    assert batch["step0_values"] == [0.0, 0.25]
    assert batch["latest_bm"] == 749.5
    assert batch["tags"] == {"x": "y", "drop": "me", "t1": "v1"}
    assert out["after_delete_tag"] == ["t1", "x"]
    assert _code(out["delete_missing_tag"]) == "RESOURCE_DOES_NOT_EXIST"
    assert out["renamed"] == ["renamed-batch", "renamed-batch"]
    assert out["killed"] == "KILLED"

    assert out["nested"] == {"parent_tag": True, "child_status": "FINISHED", "parent_status": "FINISHED"}
    assert out["failed_status"] == "FAILED"

    deleted = out["deleted"]
    assert deleted["stage"] == "deleted"
    assert deleted["active_search"] == []
    assert deleted["deleted_search"] == ["r1"]
    assert _code(deleted["log_to_deleted"]) == "INVALID_PARAMETER_VALUE"
    assert _code(deleted["set_tag_deleted"]) == "INVALID_PARAMETER_VALUE"
    assert deleted["delete_again_ok"] is True
    assert out["restored"] == "active"
    assert out["restore_again_ok"] is True

    errors = out["errors"]
    assert _code(errors["get_missing"]) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(errors["create_in_missing_exp"]) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(errors["log_metric_missing_run"]) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(errors["set_tag_missing_run"]) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(errors["bad_metric_name"]) == "INVALID_PARAMETER_VALUE"
    assert _code(errors["bad_param_key"]) == "INVALID_PARAMETER_VALUE"
    assert _code(errors["dup_params_in_batch"]) == "INVALID_PARAMETER_VALUE"
    assert _code(errors["batch_param_conflict"]) == "INVALID_PARAMETER_VALUE"
    assert _code(errors["bad_run_id_batch"]) == "INVALID_PARAMETER_VALUE"
    assert _code(out["mixed_batch"]) == "INVALID_PARAMETER_VALUE"
    assert out["rejected_batch_wrote_nothing"] is True
