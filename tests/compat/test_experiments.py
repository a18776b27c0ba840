"""Experiments through the stock mlflow client: create/get/get-by-name/search/rename/delete/restore,
tags, paging and the error codes the client surfaces (tutorial-trace.md §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.compat.scripts import section

if TYPE_CHECKING:
    from tests.conftest import RunningServer


def _code(err: Any) -> str | None:
    return None if err is None else str(err["error_code"])


@pytest.mark.timeout(600)
def test_experiment_lifecycle_via_stock_client(
    tracking_server: RunningServer, tracking_results: dict[str, Any]
) -> None:
    out: dict[str, Any] = section(tracking_results, "experiments")
    p = out["prefix"]

    assert out["set_new"] == {"name": p + "-a", "stage": "active", "loc": out["set_new"]["loc"]}
    assert out["set_new"]["loc"].startswith("mlflow-artifacts:/")
    assert out["set_existing_same_id"] is True

    created = out["created"]
    assert created["id_is_digits"] is True
    assert created["name"] == p + "-b"
    assert created["tags"] == {"team": "x", "k2": "v2"}
    assert created["stage"] == "active"
    assert created["loc"].startswith("mlflow-artifacts:/")
    assert created["times"] == [True, True]
    assert out["by_name_id"] is True
    assert out["by_name_missing"] is True
    assert out["default"] == {"name": "Default", "by_name": "0"}

    assert out["tags_after"] == {"team": "x", "owner": "you"}
    assert out["renamed"] == p + "-b2"
    assert out["old_name_gone"] is True

    assert out["search_like"] == [p + "-a", p + "-b2"]
    assert out["search_tag"] == [p + "-b2"]
    assert out["search_fluent"] == [p + "-a"]

    assert out["paged"] == {"names": [f"{p}-page-{i}" for i in (4, 3, 2, 1, 0)], "pages": 3}

    deleted = out["deleted"]
    assert deleted["stage"] == "deleted"
    assert deleted["by_name_stage"] == "deleted"
    assert deleted["active"] == []
    assert deleted["deleted_only"] == [p + "-b2"]
    assert deleted["all"] == [p + "-b2"]
    assert _code(deleted["create_same_name"]) == "RESOURCE_ALREADY_EXISTS"
    assert _code(deleted["create_run_in_deleted"]) == "INVALID_PARAMETER_VALUE"
    assert _code(deleted["delete_again"]) == "RESOURCE_DOES_NOT_EXIST"
    assert out["restored"] == "active"
    assert _code(out["restore_active"]) == "RESOURCE_DOES_NOT_EXIST"

    errors = out["errors"]
    assert _code(errors["duplicate"]) == "RESOURCE_ALREADY_EXISTS"
    assert _code(errors["get_missing"]) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(errors["get_not_int"]) == "INVALID_PARAMETER_VALUE"
    assert _code(errors["delete_missing"]) == "RESOURCE_DOES_NOT_EXIST"
    # MLflow answers BAD_REQUEST with raw DB text here; a clean RESOURCE_ALREADY_EXISTS is the
    # compatible improvement the spec allows (mlflow-rest.md §6.2). Either way: a 400, no retry loop.
    assert _code(errors["rename_to_taken"]) in {
        "BAD_REQUEST",
        "RESOURCE_ALREADY_EXISTS",
        "INVALID_PARAMETER_VALUE",
    }
    assert _code(errors["tag_bad_key"]) == "INVALID_PARAMETER_VALUE"
    assert _code(errors["delete_missing_tag"]) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(errors["search_bad_filter"]) == "INVALID_PARAMETER_VALUE"
