"""search_runs (filters, order_by, paging, view types, fluent pandas/list output) and metric
history through the stock mlflow client (tutorial-trace.md §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import MlflowClientRunner, RunningServer

SCRIPT = """
import time, uuid
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType

c = MlflowClient()
p = "search-" + uuid.uuid4().hex[:8]
exp = c.create_experiment(p)
exp2 = c.create_experiment(p + "-other")
out = {}
now = int(time.time() * 1000)

# r0..r6: m0 = i/10, p1 = x for even i, group tag, start_time increasing with i
ids = {}
for i in range(7):
    run = c.create_run(exp, run_name=f"r{i}", start_time=now + i * 1000,
                       tags={"group": "even" if i % 2 == 0 else "odd"})
    rid = run.info.run_id
    ids[f"r{i}"] = rid
    c.log_batch(rid, metrics=[Metric("m0", i / 10, now, 0), Metric("m1", 1.0, now, 0)],
                params=[Param("p1", "x" if i % 2 == 0 else "y"), Param("idx", str(i))])
    if i < 3:
        c.set_terminated(rid, "FINISHED")
c.log_metric(ids["r3"], "m2", 1.0)
c.log_metric(ids["r5"], "m2", 2.0)
other = c.create_run(exp2, run_name="o1", tags={"group": "even"}).info.run_id
c.log_metric(other, "m0", 0.9)
names_of = {v: k for k, v in ids.items()}
names_of[other] = "o1"

def names(runs):
    return [r.info.run_name for r in runs]

def search(filter_string="", order_by=None, exps=(exp,), **kw):
    return names(c.search_runs(list(exps), filter_string=filter_string, order_by=order_by, **kw))

out["default_order"] = search()
out["metric_and_param"] = search("metrics.m0 > 0.25 and params.p1 = 'x'", ["metrics.m0 ASC"])
out["metric_desc"] = search(order_by=["metrics.m0 DESC"])
out["param_then_metric"] = search(order_by=["params.p1 ASC", "metrics.m0 DESC"])
out["tag_filter"] = sorted(search("tags.group = 'odd'"))
out["status_filter"] = sorted(search("attributes.status = 'FINISHED'"))
out["name_like"] = sorted(search("attributes.run_name LIKE 'r%' and metrics.m0 >= 0.5"))
out["name_ilike"] = sorted(search("run_name ILIKE 'R1'"))
out["run_id_in"] = sorted(search(f"attributes.run_id IN ('{ids['r1']}', '{ids['r2']}')"))
out["start_time_asc"] = search(order_by=["attributes.start_time ASC"])
out["two_experiments"] = sorted(search("tags.group = 'even'", exps=(exp, exp2)))
out["missing_last_desc"] = search(order_by=["metrics.m2 DESC", "attributes.start_time ASC"])
out["missing_last_asc"] = search(order_by=["metrics.m2 ASC", "attributes.start_time ASC"])

pages, token, seen = [], None, []
while True:
    page = c.search_runs([exp], order_by=["metrics.m0 ASC"], max_results=3, page_token=token)
    pages.append(len(page))
    seen += names(page)
    token = page.token
    if not token or len(pages) > 10:
        break
out["paged"] = {"pages": pages, "names": seen}

df = mlflow.search_runs([exp], max_results=5, order_by=["metrics.m0 DESC"])
out["pandas"] = {
    "rows": len(df),
    "has_columns": all(col in df.columns
                       for col in ("run_id", "metrics.m0", "params.p1", "tags.group", "status")),
    "first_m0": float(df["metrics.m0"].iloc[0]),
}
out["fluent_list"] = names(mlflow.search_runs([exp], filter_string="params.idx = '3'", output_format="list"))
out["fluent_by_name"] = len(mlflow.search_runs(experiment_names=[p], output_format="list"))

c.delete_run(ids["r6"])
out["view_active"] = len(search())
out["view_deleted"] = search(run_view_type=ViewType.DELETED_ONLY)
out["view_all"] = len(search(run_view_type=ViewType.ALL))

out["bad_filter"] = error_of(c.search_runs, [exp], filter_string="metrics.x >> 1")
out["bad_or"] = error_of(c.search_runs, [exp], filter_string="metrics.m0 > 1 OR metrics.m0 < 0")
out["bad_order"] = error_of(c.search_runs, [exp], order_by=["nosuch.m0 ASC"])

# metric history: 2500 points across several batches, timestamps not in step order
hist_run = ids["r0"]
points = [Metric("h", float(i), now + (2500 - i), i) for i in range(2500)]
for k in range(0, 2500, 1000):
    c.log_batch(hist_run, metrics=points[k:k + 1000])
h = c.get_metric_history(hist_run, "h")
out["history"] = {
    "n": len(h),
    "steps": sorted(m.step for m in h) == list(range(2500)),
    "values_match_steps": all(m.value == float(m.step) for m in h),
    "latest": c.get_run(hist_run).data.metrics["h"],
}
out["history_unknown_run"] = error_of(c.get_metric_history, uuid.uuid4().hex, "h")
emit(out)
"""


def test_search_and_history_via_stock_client(
    tracking_server: RunningServer, mlflow_client: MlflowClientRunner
) -> None:
    out: dict[str, Any] = mlflow_client.run(SCRIPT, tracking_server.url)
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

    assert out["view_active"] == 6
    assert out["view_deleted"] == ["r6"]
    assert out["view_all"] == 7

    for key in ("bad_filter", "bad_or", "bad_order"):
        assert out[key] is not None, key
        assert out[key]["error_code"] == "INVALID_PARAMETER_VALUE", key

    assert out["history"] == {"n": 2500, "steps": True, "values_match_steps": True, "latest": 2499.0}
    # MLflow answers an unknown run id in get-history with an empty list, not a 404
    assert out["history_unknown_run"] is None
