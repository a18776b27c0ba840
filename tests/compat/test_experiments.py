"""Experiments through the stock mlflow client: create/get/get-by-name/search/rename/delete/restore,
tags, paging and the error codes the client surfaces (tutorial-trace.md §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import MlflowClientRunner, RunningServer

SCRIPT = """
import uuid
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

c = MlflowClient()
p = "exp-" + uuid.uuid4().hex[:8]
out = {}

# set_experiment: get-by-name 404 -> create -> get; then the existing one
e = mlflow.set_experiment(p + "-a")
out["set_new"] = {"name": e.name, "stage": e.lifecycle_stage, "loc": e.artifact_location}
out["set_existing_same_id"] = mlflow.set_experiment(p + "-a").experiment_id == e.experiment_id

eid = c.create_experiment(p + "-b", tags={"team": "x", "k2": "v2"})
got = c.get_experiment(eid)
out["created"] = {
    "id_is_digits": eid.isdigit(),
    "name": got.name,
    "tags": got.tags,
    "stage": got.lifecycle_stage,
    "loc": got.artifact_location,
    "times": [got.creation_time is not None and got.creation_time > 0,
              got.last_update_time is not None and got.last_update_time > 0],
}
out["by_name_id"] = c.get_experiment_by_name(p + "-b").experiment_id == eid
out["by_name_missing"] = c.get_experiment_by_name(p + "-nope") is None
out["default"] = {
    "name": c.get_experiment("0").name,
    "by_name": c.get_experiment_by_name("Default").experiment_id,
}

c.set_experiment_tag(eid, "owner", "me")
c.set_experiment_tag(eid, "owner", "you")
c.delete_experiment_tag(eid, "k2")
out["tags_after"] = c.get_experiment(eid).tags

c.rename_experiment(eid, p + "-b2")
out["renamed"] = c.get_experiment(eid).name
out["old_name_gone"] = c.get_experiment_by_name(p + "-b") is None

def names(**kw):
    return [x.name for x in c.search_experiments(**kw)]

out["search_like"] = names(filter_string=f"name LIKE '{p}%'", order_by=["name ASC"])
out["search_tag"] = names(filter_string=f"name LIKE '{p}%' and tags.owner = 'you'")
out["search_fluent"] = [x.name for x in mlflow.search_experiments(filter_string=f"name = '{p}-a'")]

for i in range(5):
    c.create_experiment(f"{p}-page-{i}")
paged_names, token, pages = [], None, 0
while True:
    page = c.search_experiments(max_results=2, filter_string=f"name LIKE '{p}-page-%'",
                                order_by=["name DESC"], page_token=token)
    paged_names += [x.name for x in page]
    pages += 1
    token = page.token
    if not token or pages > 10:
        break
out["paged"] = {"names": paged_names, "pages": pages}

c.delete_experiment(eid)
out["deleted"] = {
    "stage": c.get_experiment(eid).lifecycle_stage,
    "by_name_stage": c.get_experiment_by_name(p + "-b2").lifecycle_stage,
    "active": [x.name for x in c.search_experiments(filter_string=f"name LIKE '{p}-b%'")],
    "deleted_only": [x.name for x in c.search_experiments(view_type=ViewType.DELETED_ONLY,
                                                          filter_string=f"name LIKE '{p}%'")],
    "all": sorted(names(view_type=ViewType.ALL, filter_string=f"name LIKE '{p}-%b%'")),
    "create_same_name": error_of(c.create_experiment, p + "-b2"),
    "create_run_in_deleted": error_of(c.create_run, eid),
    "delete_again": error_of(c.delete_experiment, eid),
}
c.restore_experiment(eid)
out["restored"] = c.get_experiment(eid).lifecycle_stage
out["restore_active"] = error_of(c.restore_experiment, eid)

out["errors"] = {
    "duplicate": error_of(c.create_experiment, p + "-a"),
    "get_missing": error_of(c.get_experiment, "987654321"),
    "get_not_int": error_of(c.get_experiment, "abc"),
    "delete_missing": error_of(c.delete_experiment, "987654321"),
    "rename_to_taken": error_of(c.rename_experiment, eid, p + "-a"),
    "tag_bad_key": error_of(c.set_experiment_tag, eid, "bad$key", "v"),
    "delete_missing_tag": error_of(c.delete_experiment_tag, eid, "nope"),
    "search_bad_filter": error_of(c.search_experiments, filter_string="name ~ 'x'"),
}
out["prefix"] = p
emit(out)
"""


def _code(err: Any) -> str | None:
    return None if err is None else str(err["error_code"])


def test_experiment_lifecycle_via_stock_client(
    tracking_server: RunningServer, mlflow_client: MlflowClientRunner
) -> None:
    out = mlflow_client.run(SCRIPT, tracking_server.url)
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
