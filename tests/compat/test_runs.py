"""Runs through the stock mlflow client: start/end, params, metrics (steps, NaN, +-inf), tags,
log_batch (client-side splitting), nested and failed runs, delete/restore, and the error codes the
client surfaces (tutorial-trace.md §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import MlflowClientRunner, RunningServer

SCRIPT = """
import math, time, uuid
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType

c = MlflowClient()
p = "runs-" + uuid.uuid4().hex[:8]
exp_id = mlflow.set_experiment(p).experiment_id
out = {"exp_id": exp_id}

def hist(run_id, key):
    points = sorted(c.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
    return [[m.step, m.value] for m in points]

with mlflow.start_run(run_name="r1", tags={"team": "a"}, description="my description") as run:
    rid = run.info.run_id
    out["active_status"] = c.get_run(rid).info.status
    mlflow.log_param("lr", "0.01")
    mlflow.log_params({"a": 1, "b": "x"})
    mlflow.log_metric("loss", 0.5, step=0)
    mlflow.log_metric("loss", 0.4, step=1)
    mlflow.log_metric("loss", float("nan"), step=2)
    mlflow.log_metric("acc", float("inf"), step=0)
    mlflow.log_metric("neg", float("-inf"), step=0)
    mlflow.log_metric("zero", 0.0)
    mlflow.log_metrics({"m1": 1.0, "m2": 2.0}, step=3)
    mlflow.set_tag("k", "v")
    mlflow.set_tags({"k2": "v2", "k3": "v3"})
    mlflow.log_param("lr", "0.01")
    out["param_change"] = error_of(mlflow.log_param, "lr", "0.02")

r = c.get_run(rid)
out["r1"] = {
    "status": r.info.status,
    "name": r.info.run_name,
    "stage": r.info.lifecycle_stage,
    "exp": r.info.experiment_id,
    "end_after_start": r.info.end_time is not None and r.info.end_time >= r.info.start_time,
    "artifact_uri": r.info.artifact_uri,
    "params": r.data.params,
    "metrics": r.data.metrics,
    "tags": {k: v for k, v in r.data.tags.items()
             if k in ("team", "k", "k2", "k3", "mlflow.note.content", "mlflow.runName")},
    "has_user_tag": "mlflow.user" in r.data.tags,
}
out["hist_loss"] = hist(rid, "loss")
out["hist_acc"] = hist(rid, "acc")
out["hist_missing_key"] = hist(rid, "no-such-metric")

# MlflowClient.log_batch: more than one request's worth of metrics and params (client splits)
run2 = c.create_run(exp_id, run_name="batch", tags={"x": "y", "drop": "me"})
r2 = run2.info.run_id
ts = int(time.time() * 1000)
c.log_batch(
    r2,
    metrics=[Metric("bm", i * 0.5, ts + i, i) for i in range(1500)],
    params=[Param(f"p{i:03d}", str(i)) for i in range(120)],
    tags=[RunTag("t1", "v1")],
)
c.log_batch(r2, metrics=[Metric("bm", 0.25, ts, 0)])  # same step, other value: a second point
got2 = c.get_run(r2)
h = c.get_metric_history(r2, "bm")
out["batch"] = {
    "n_params": len(got2.data.params),
    "p119": got2.data.params.get("p119"),
    "latest_bm": got2.data.metrics.get("bm"),
    "hist_len": len(h),
    "hist_steps_min_max": [min(m.step for m in h), max(m.step for m in h)],
    "step0_values": sorted(m.value for m in h if m.step == 0),
    "tags": {k: v for k, v in got2.data.tags.items() if not k.startswith("mlflow.")},
}
c.delete_tag(r2, "drop")
out["after_delete_tag"] = sorted(k for k in c.get_run(r2).data.tags if not k.startswith("mlflow."))
out["delete_missing_tag"] = error_of(c.delete_tag, r2, "never-set")

c.update_run(r2, name="renamed-batch")
got2 = c.get_run(r2)
out["renamed"] = [got2.info.run_name, got2.data.tags.get("mlflow.runName")]
c.set_terminated(r2, "KILLED")
out["killed"] = c.get_run(r2).info.status

with mlflow.start_run(run_name="parent") as parent:
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("x", 1.0)
out["nested"] = {
    "parent_tag": c.get_run(child.info.run_id).data.tags.get("mlflow.parentRunId") == parent.info.run_id,
    "child_status": c.get_run(child.info.run_id).info.status,
    "parent_status": c.get_run(parent.info.run_id).info.status,
}
try:
    with mlflow.start_run(run_name="fails") as failing:
        raise ValueError("boom")
except ValueError:
    pass
out["failed_status"] = c.get_run(failing.info.run_id).info.status

c.delete_run(rid)
out["deleted"] = {
    "stage": c.get_run(rid).info.lifecycle_stage,
    "active_search": [x.info.run_name
                      for x in c.search_runs([exp_id], filter_string="attributes.run_name = 'r1'")],
    "deleted_search": [x.info.run_name
                       for x in c.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)],
    "log_to_deleted": error_of(c.log_metric, rid, "late", 1.0),
    "set_tag_deleted": error_of(c.set_tag, rid, "late", "x"),
    "delete_again_ok": error_of(c.delete_run, rid) is None,
}
c.restore_run(rid)
out["restored"] = c.get_run(rid).info.lifecycle_stage
out["restore_again_ok"] = error_of(c.restore_run, rid) is None

missing = uuid.uuid4().hex
out["errors"] = {
    "get_missing": error_of(c.get_run, missing),
    "create_in_missing_exp": error_of(c.create_run, "987654321"),
    "log_metric_missing_run": error_of(c.log_metric, missing, "m", 1.0),
    "set_tag_missing_run": error_of(c.set_tag, missing, "k", "v"),
    "bad_metric_name": error_of(c.log_batch, rid, metrics=[Metric("bad$name", 1.0, ts, 0)]),
    "bad_param_key": error_of(c.log_batch, rid, params=[Param("a/../b", "1")]),
    "dup_params_in_batch": error_of(c.log_batch, rid, params=[Param("d", "1"), Param("d", "2")]),
    "batch_param_conflict": error_of(c.log_batch, rid, params=[Param("lr", "0.5")]),
    "bad_run_id_batch": error_of(c.log_batch, "bad id!", metrics=[Metric("m", 1.0, ts, 0)]),
}
# all-or-nothing: the valid metric of a batch rejected for its param must not be stored
out["mixed_batch"] = error_of(
    c.log_batch, rid, metrics=[Metric("ok_metric", 1.0, ts, 0)], params=[Param("lr", "9")]
)
out["rejected_batch_wrote_nothing"] = "ok_metric" not in c.get_run(rid).data.metrics
emit(out)
"""


def _code(err: Any) -> str | None:
    return None if err is None else str(err["error_code"])


def test_run_tracking_via_stock_client(
    tracking_server: RunningServer, mlflow_client: MlflowClientRunner
) -> None:
    out = mlflow_client.run(SCRIPT, tracking_server.url)

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
