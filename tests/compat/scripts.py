"""Stock-client scripts of the compatibility suite (run in .venv-mlflow, never imported there).

Each body fills a dict `out`; compose() wraps several bodies into one client script so that one
process (mlflow import ~2-3 s) serves several test functions. A body that raises is reported as
{"__error__": traceback} for its own tests only.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

EXPERIMENTS = """
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
"""

RUNS = """
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
"""

SEARCH = """
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

# the fluent API pages internally (NUM_RUNS_PER_PAGE_PANDAS per request): make it page by 2
import mlflow.tracking.fluent as fluent

saved_page_size = fluent.NUM_RUNS_PER_PAGE_PANDAS
fluent.NUM_RUNS_PER_PAGE_PANDAS = 2
try:
    paged_df = mlflow.search_runs([exp], order_by=["metrics.m0 ASC"])
    out["fluent_paged"] = list(paged_df["tags.mlflow.runName"])
    out["fluent_paged_limited"] = len(mlflow.search_runs([exp], max_results=5, output_format="list"))
finally:
    fluent.NUM_RUNS_PER_PAGE_PANDAS = saved_page_size

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
"""

ARTIFACTS = """
import hashlib, os, pathlib, tempfile, uuid
import mlflow
from mlflow import MlflowClient

c = MlflowClient()
p = "art-" + uuid.uuid4().hex[:8]
mlflow.set_experiment(p)
src = pathlib.Path(tempfile.mkdtemp())
(src / "single.txt").write_text("hello\\n")
tree = src / "tree"
(tree / "sub" / "deeper").mkdir(parents=True)
(tree / "a.json").write_text('{"a": 1}')
(tree / "sub" / "b.csv").write_text("x,y\\n1,2\\n")
(tree / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(1000))
big = src / "big.bin"
big.write_bytes(os.urandom(5 * 1024 * 1024 + 123))
odd = src / "name with space ü.txt"
odd.write_text("odd")

def sha(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()

def listing(run_id, path=None):
    return sorted([f.path, f.is_dir, f.file_size] for f in c.list_artifacts(run_id, path))

out = {}
with mlflow.start_run() as run:
    rid = run.info.run_id
    mlflow.log_artifact(str(src / "single.txt"))
    mlflow.log_artifact(str(src / "single.txt"), "notes")
    mlflow.log_artifacts(str(tree), artifact_path="tree")
    mlflow.log_text("some text", "texts/t.txt")
    mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "cfg/conf.json")
    mlflow.log_artifact(str(big), "blobs")
    mlflow.log_artifact(str(odd), "odd dir")
    out["root"] = listing(rid)
    out["tree"] = listing(rid, "tree")
    out["tree_sub"] = listing(rid, "tree/sub")
    out["missing_dir"] = listing(rid, "no-such-dir")

dest = pathlib.Path(tempfile.mkdtemp())
local_tree = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="tree", dst_path=str(dest / "t"))
out["downloaded_tree"] = sorted(
    str(pth.relative_to(local_tree)) for pth in pathlib.Path(local_tree).rglob("*") if pth.is_file()
)
out["tree_bytes_equal"] = all(
    (pathlib.Path(local_tree) / rel).read_bytes() == (tree / rel).read_bytes()
    for rel in ("a.json", "sub/b.csv", "sub/deeper/c.bin")
)
single = mlflow.artifacts.download_artifacts(f"runs:/{rid}/single.txt", dst_path=str(dest / "s"))
out["single"] = pathlib.Path(single).read_text()
out["conf"] = mlflow.artifacts.load_dict(f"runs:/{rid}/cfg/conf.json")
out["text"] = mlflow.artifacts.load_text(f"runs:/{rid}/texts/t.txt")
big_local = mlflow.artifacts.download_artifacts(f"runs:/{rid}/blobs/big.bin", dst_path=str(dest / "b"))
out["big_sha_equal"] = sha(big_local) == sha(big)
odd_local = mlflow.artifacts.download_artifacts(f"runs:/{rid}/odd dir/{odd.name}", dst_path=str(dest / "o"))
out["odd"] = pathlib.Path(odd_local).read_text()
everything = mlflow.artifacts.download_artifacts(f"runs:/{rid}/", dst_path=str(dest / "all"))
out["all_files"] = sorted(
    str(pth.relative_to(everything)) for pth in pathlib.Path(everything).rglob("*") if pth.is_file()
)
def missing():
    mlflow.artifacts.download_artifacts(f"runs:/{rid}/nope.txt", dst_path=str(dest / "m"))
try:
    missing()
    out["missing_file"] = "no error"
except Exception as e:
    out["missing_file"] = type(e).__name__
out["run_id"] = rid
out["experiment_id"] = run.info.experiment_id
"""

TUTORIAL = """
import os, pathlib, tempfile, uuid
import numpy as np
import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split

c = MlflowClient()
exp_name = "tutorial-" + uuid.uuid4().hex[:8]
mlflow.set_experiment(exp_name)

mlflow.autolog()
db = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(db.data, db.target, random_state=0)
rf = RandomForestRegressor(n_estimators=20, max_depth=6, max_features=3, random_state=0)
rf.fit(X_train, y_train)
predictions = rf.predict(X_test)
run = mlflow.last_active_run()
rid = run.info.run_id

out = {}
r = c.get_run(rid)
out["run"] = {
    "status": r.info.status,
    "params": {k: r.data.params.get(k)
               for k in ("max_depth", "n_estimators", "max_features", "bootstrap")},
    "metric_keys": sorted(k for k in r.data.metrics if k.startswith("training_")),
    "r2_positive": r.data.metrics.get("training_r2_score", 0) > 0,
    "autolog_tag": r.data.tags.get("mlflow.autologging"),
    "dataset_contexts": sorted(
        t.value for d in r.inputs.dataset_inputs for t in d.tags if t.key == "mlflow.data.context"
    ),
    "n_model_outputs": len(r.outputs.model_outputs) if r.outputs else 0,
}
out["run_artifacts"] = sorted(f.path for f in c.list_artifacts(rid))

models = mlflow.search_logged_models(
    experiment_ids=[run.info.experiment_id], filter_string="name = 'model'", output_format="list"
)
out["logged_models"] = [
    {
        "name": m.name,
        "status": str(getattr(m.status, "value", m.status)),
        "source_run": m.source_run_id == rid,
        "params_max_depth": m.params.get("max_depth"),
    }
    for m in models
]
model_id = models[0].model_id if models else None
if model_id:
    lm = mlflow.get_logged_model(model_id)
    out["logged_model_artifact_location"] = lm.artifact_location
    out["model_outputs_match"] = [o.model_id for o in r.outputs.model_outputs] == [model_id]

local = mlflow.artifacts.download_artifacts(f"runs:/{rid}/model", dst_path=tempfile.mkdtemp())
out["downloaded"] = sorted(p.name for p in pathlib.Path(local).iterdir())
loaded = mlflow.sklearn.load_model(local)
out["local_predict_equal"] = bool(np.allclose(loaded.predict(X_test), predictions))
direct = mlflow.sklearn.load_model(f"runs:/{rid}/model")
out["runs_uri_predict_equal"] = bool(np.allclose(direct.predict(X_test), predictions))
pyfunc = mlflow.pyfunc.load_model(f"models:/{model_id}")
out["models_uri_predict_equal"] = bool(np.allclose(pyfunc.predict(X_test), predictions))
out["odd_form"] = error_of(mlflow.artifacts.download_artifacts, f"runs://{rid}/model")
out["run_id"] = rid
out["experiment_id"] = run.info.experiment_id
out["model_id"] = model_id
"""


def compose(sections: dict[str, str]) -> str:
    """One script running every section in its own function; emits {section: out or error}."""
    code = ["import traceback as _traceback", "_results = {}"]
    for name, body in sections.items():
        code.append(f"def _section_{name}():")
        code.append(textwrap.indent(textwrap.dedent(body), "    "))
        code.append("    return out")
        code.append("try:")
        code.append(f"    _results[{name!r}] = _section_{name}()")
        code.append("except Exception:")
        code.append(f"    _results[{name!r}] = {{'__error__': _traceback.format_exc()}}")
    code.append("emit(_results)")
    return "\n".join(code) + "\n"


def section(results: dict[str, Any], name: str) -> dict[str, Any]:
    """The `out` of one section, failing the calling test with the section's traceback."""
    out = results.get(name)
    if out is None:
        pytest.fail(f"section {name!r} produced no result", pytrace=False)
    if "__error__" in out:
        pytest.fail(f"client script section {name!r} raised:\n{out['__error__']}", pytrace=False)
    return dict(out)
