"""The request scenario replayed against the real `mlflow server` and against runstash.

Plain data: each Step is one raw HTTP request. `${name}` in a path, query value or JSON string is
replaced by a value captured from an earlier response on the same server (`capture` maps a name to
a dotted path into the response JSON). Every request goes to a fresh database, so experiment ids
line up on both servers; run ids, model ids, page tokens and generated names are captured and
normalised.
"""

from __future__ import annotations

import dataclasses
from typing import Any

T0 = 1_700_000_000_000  # every timestamp the scenario sends derives from this


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    json: Any = None
    query: tuple[tuple[str, str], ...] = ()
    raw: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    capture: tuple[tuple[str, str], ...] = ()
    # "full": status, JSON-ness and normalised body; "status": status and error_code only;
    # "keys:a,b": status and only these top-level keys of the body
    compare: str = "full"


API = "/api/2.0/mlflow"
ART = "/api/2.0/mlflow-artifacts/artifacts"


def _metric(key: str, value: Any, step: int, ts_offset: int = 0) -> dict[str, Any]:
    return {"key": key, "value": value, "timestamp": T0 + ts_offset, "step": step}


def get(name: str, path: str, *query: tuple[str, str], **kw: Any) -> Step:
    return Step(name, "GET", path, query=tuple(query), **kw)


def post(name: str, path: str, body: Any, **kw: Any) -> Step:
    return Step(name, "POST", path, json=body, **kw)


EXPERIMENTS: list[Step] = [
    get("exp.get-by-name.missing", f"{API}/experiments/get-by-name", ("experiment_name", "diff-a")),
    post(
        "exp.create",
        f"{API}/experiments/create",
        {"name": "diff-a", "tags": [{"key": "team", "value": "x"}]},
        capture=(("exp_a", "experiment_id"),),
    ),
    post(
        "exp.create.b", f"{API}/experiments/create", {"name": "diff-b"}, capture=(("exp_b", "experiment_id"),)
    ),
    post("exp.create.duplicate", f"{API}/experiments/create", {"name": "diff-a"}),
    post("exp.create.missing-name", f"{API}/experiments/create", {}),
    post("exp.create.blank-name", f"{API}/experiments/create", {"name": " "}),
    post("exp.create.long-name", f"{API}/experiments/create", {"name": "n" * 501}),
    post("exp.create.int-name", f"{API}/experiments/create", {"name": 5}),
    post(
        "exp.create.runs-uri-location",
        f"{API}/experiments/create",
        {"name": "diff-loc", "artifact_location": "runs:/abc/x"},
    ),
    get("exp.get", f"{API}/experiments/get", ("experiment_id", "${exp_a}")),
    get("exp.get.default", f"{API}/experiments/get", ("experiment_id", "0")),
    get("exp.get.not-int", f"{API}/experiments/get", ("experiment_id", "abc")),
    get("exp.get.missing", f"{API}/experiments/get", ("experiment_id", "999999")),
    get("exp.get.no-id", f"{API}/experiments/get"),
    get("exp.get-by-name", f"{API}/experiments/get-by-name", ("experiment_name", "diff-a")),
    post(
        "exp.search",
        f"{API}/experiments/search",
        {"max_results": 10, "filter": "name LIKE 'diff-%'", "order_by": ["name ASC"]},
    ),
    post(
        "exp.search.page1",
        f"{API}/experiments/search",
        {"max_results": 1, "order_by": ["name DESC"], "filter": "name LIKE 'diff-%'"},
        capture=(("exp_token", "next_page_token"),),
    ),
    post(
        "exp.search.page2",
        f"{API}/experiments/search",
        {
            "max_results": 1,
            "order_by": ["name DESC"],
            "filter": "name LIKE 'diff-%'",
            "page_token": "${exp_token}",
        },
    ),
    get(
        "exp.search.get",
        f"{API}/experiments/search",
        ("max_results", "5"),
        ("filter", "tags.team = 'x'"),
    ),
    post("exp.search.no-max-results", f"{API}/experiments/search", {}),
    post("exp.search.max-results-too-big", f"{API}/experiments/search", {"max_results": 50001}),
    post(
        "exp.search.bad-filter",
        f"{API}/experiments/search",
        {"max_results": 5, "filter": "name = 'a' OR name = 'b'"},
    ),
    post("exp.search.bad-token", f"{API}/experiments/search", {"max_results": 5, "page_token": "%%%"}),
    post(
        "exp.set-tag",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": "${exp_a}", "key": "owner", "value": "me"},
    ),
    post(
        "exp.set-tag.bad-key",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": "${exp_a}", "key": "a$b", "value": "v"},
    ),
    post(
        "exp.set-tag.missing-key",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": "${exp_a}", "value": "v"},
    ),
    post(
        "exp.delete-tag",
        f"{API}/experiments/delete-experiment-tag",
        {"experiment_id": "${exp_a}", "key": "team"},
    ),
    post(
        "exp.delete-tag.missing",
        f"{API}/experiments/delete-experiment-tag",
        {"experiment_id": "${exp_a}", "key": "nope"},
    ),
    get("exp.get.after-tags", f"{API}/experiments/get", ("experiment_id", "${exp_a}")),
    post("exp.rename", f"{API}/experiments/update", {"experiment_id": "${exp_b}", "new_name": "diff-b2"}),
    post(
        "exp.rename.taken", f"{API}/experiments/update", {"experiment_id": "${exp_b}", "new_name": "diff-a"}
    ),
    post("exp.rename.missing-new-name", f"{API}/experiments/update", {"experiment_id": "${exp_b}"}),
    post("exp.delete", f"{API}/experiments/delete", {"experiment_id": "${exp_b}"}),
    get("exp.get.deleted", f"{API}/experiments/get", ("experiment_id", "${exp_b}")),
    post("exp.delete.again", f"{API}/experiments/delete", {"experiment_id": "${exp_b}"}),
    post(
        "exp.rename.deleted",
        f"{API}/experiments/update",
        {"experiment_id": "${exp_b}", "new_name": "diff-b3"},
    ),
    post("exp.create.same-as-deleted", f"{API}/experiments/create", {"name": "diff-b2"}),
    post(
        "exp.search.deleted-only",
        f"{API}/experiments/search",
        {"max_results": 10, "view_type": "DELETED_ONLY"},
    ),
    post("exp.restore", f"{API}/experiments/restore", {"experiment_id": "${exp_b}"}),
    post("exp.restore.active", f"{API}/experiments/restore", {"experiment_id": "${exp_b}"}),
    post("exp.delete.missing", f"{API}/experiments/delete", {"experiment_id": "999999"}),
]

RUNS: list[Step] = [
    post(
        "run.create",
        f"{API}/runs/create",
        {
            "experiment_id": "${exp_a}",
            "run_name": "r1",
            "start_time": T0,
            "user_id": "alice",
            "tags": [{"key": "mlflow.user", "value": "alice"}, {"key": "team", "value": "x"}],
        },
        capture=(("run1", "run.info.run_id"),),
    ),
    post(
        "run.create.r2",
        f"{API}/runs/create",
        {"experiment_id": "${exp_a}", "run_name": "r2", "start_time": T0 + 1000},
        capture=(("run2", "run.info.run_id"),),
    ),
    post(
        "run.create.generated-name",
        f"{API}/runs/create",
        {"experiment_id": "${exp_a}", "start_time": T0 + 2000},
        capture=(("run3", "run.info.run_id"), ("run3_name", "run.info.run_name")),
    ),
    post(
        "run.create.name-conflict",
        f"{API}/runs/create",
        {"experiment_id": "${exp_a}", "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]},
    ),
    post(
        "run.create.missing-experiment", f"{API}/runs/create", {"experiment_id": "999999", "start_time": T0}
    ),
    post("run.create.experiment-not-int", f"{API}/runs/create", {"experiment_id": "abc", "start_time": T0}),
    get("run.get", f"{API}/runs/get", ("run_id", "${run1}")),
    get("run.get.by-uuid", f"{API}/runs/get", ("run_uuid", "${run1}")),
    get("run.get.missing", f"{API}/runs/get", ("run_id", "0123456789abcdef0123456789abcdef")),
    get("run.get.no-id", f"{API}/runs/get"),
    post("metric.log", f"{API}/runs/log-metric", {"run_id": "${run1}", **_metric("loss", 0.5, 0)}),
    post("metric.log.step1", f"{API}/runs/log-metric", {"run_id": "${run1}", **_metric("loss", 0.25, 1, 10)}),
    post("metric.log.nan", f"{API}/runs/log-metric", {"run_id": "${run1}", **_metric("loss", "NaN", 2, 20)}),
    post("metric.log.inf", f"{API}/runs/log-metric", {"run_id": "${run1}", **_metric("acc", "Infinity", 0)}),
    post(
        "metric.log.neg-inf",
        f"{API}/runs/log-metric",
        {"run_id": "${run1}", **_metric("low", "-Infinity", 0)},
    ),
    post(
        "metric.log.string-number", f"{API}/runs/log-metric", {"run_id": "${run1}", **_metric("s", "1.5", 0)}
    ),
    post(
        "metric.log.run-uuid-only",
        f"{API}/runs/log-metric",
        {"run_uuid": "${run1}", **_metric("u", 1.0, 0)},
    ),
    post(
        "metric.log.no-timestamp",
        f"{API}/runs/log-metric",
        {"run_id": "${run1}", "key": "loss", "value": 1.0, "step": 3},
    ),
    post(
        "metric.log.negative-timestamp",
        f"{API}/runs/log-metric",
        {"run_id": "${run1}", "key": "nt", "value": 1.0, "timestamp": -5},
    ),
    post(
        "metric.log.bad-name", f"{API}/runs/log-metric", {"run_id": "${run1}", **_metric("bad$key", 1.0, 0)}
    ),
    post(
        "metric.log.traversal-name",
        f"{API}/runs/log-metric",
        {"run_id": "${run1}", **_metric("a/../b", 1.0, 0)},
    ),
    post("metric.log.bad-value", f"{API}/runs/log-metric", {"run_id": "${run1}", **_metric("v", "abc", 0)}),
    post("metric.log.no-value", f"{API}/runs/log-metric", {"run_id": "${run1}", "key": "v", "timestamp": T0}),
    post(
        "metric.log.missing-run",
        f"{API}/runs/log-metric",
        {"run_id": "0123456789abcdef0123456789abcdef", **_metric("m", 1.0, 0)},
    ),
    post("param.log", f"{API}/runs/log-parameter", {"run_id": "${run1}", "key": "lr", "value": "0.01"}),
    post("param.log.same", f"{API}/runs/log-parameter", {"run_id": "${run1}", "key": "lr", "value": "0.01"}),
    post(
        "param.log.changed", f"{API}/runs/log-parameter", {"run_id": "${run1}", "key": "lr", "value": "0.02"}
    ),
    post("param.log.no-value", f"{API}/runs/log-parameter", {"run_id": "${run1}", "key": "empty"}),
    post(
        "param.log.long-value",
        f"{API}/runs/log-parameter",
        {"run_id": "${run1}", "key": "long", "value": "v" * 6500},
    ),
    post(
        "param.log.bad-key", f"{API}/runs/log-parameter", {"run_id": "${run1}", "key": "a b$", "value": "1"}
    ),
    post("tag.set", f"{API}/runs/set-tag", {"run_id": "${run1}", "key": "k", "value": "v"}),
    post("tag.set.overwrite", f"{API}/runs/set-tag", {"run_id": "${run1}", "key": "k", "value": "v2"}),
    post(
        "tag.set.long-value", f"{API}/runs/set-tag", {"run_id": "${run1}", "key": "long", "value": "t" * 8500}
    ),
    post(
        "tag.set.run-name",
        f"{API}/runs/set-tag",
        {"run_id": "${run2}", "key": "mlflow.runName", "value": "r2-renamed"},
    ),
    post("tag.delete", f"{API}/runs/delete-tag", {"run_id": "${run1}", "key": "team"}),
    post("tag.delete.missing", f"{API}/runs/delete-tag", {"run_id": "${run1}", "key": "team"}),
    post(
        "batch.log",
        f"{API}/runs/log-batch",
        {
            "run_id": "${run2}",
            "metrics": [_metric("m", float(i), i, i) for i in range(5)] + [_metric("acc", 0.9, 0)],
            "params": [{"key": "p1", "value": "x"}, {"key": "p2", "value": "y"}],
            "tags": [{"key": "t1", "value": "v1"}],
        },
    ),
    post("batch.log.empty", f"{API}/runs/log-batch", {"run_id": "${run2}"}),
    post(
        "batch.log.too-many-metrics",
        f"{API}/runs/log-batch",
        {"run_id": "${run2}", "metrics": [_metric("x", 1.0, i) for i in range(1001)]},
    ),
    post(
        "batch.log.too-many-params",
        f"{API}/runs/log-batch",
        {"run_id": "${run2}", "params": [{"key": f"k{i}", "value": "v"} for i in range(101)]},
    ),
    post(
        "batch.log.duplicate-params",
        f"{API}/runs/log-batch",
        {"run_id": "${run2}", "params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]},
    ),
    post(
        "batch.log.param-conflict",
        f"{API}/runs/log-batch",
        {
            "run_id": "${run2}",
            "params": [{"key": "p1", "value": "changed"}],
            "metrics": [_metric("never", 1.0, 0)],
        },
    ),
    post(
        "batch.log.metric-no-timestamp",
        f"{API}/runs/log-batch",
        {"run_id": "${run2}", "metrics": [{"key": "x", "value": 1.0, "step": 0}]},
    ),
    post(
        "batch.log.bad-run-id",
        f"{API}/runs/log-batch",
        {"run_id": "bad id!", "metrics": [_metric("x", 1.0, 0)]},
    ),
    post("batch.log.missing-run", f"{API}/runs/log-batch", {"run_id": "0123456789abcdef0123456789abcdef"}),
    get("run.get.after-logging", f"{API}/runs/get", ("run_id", "${run1}")),
    get("run.get.r2-after-batch", f"{API}/runs/get", ("run_id", "${run2}")),
    get("history.all", f"{API}/metrics/get-history", ("run_id", "${run1}"), ("metric_key", "loss")),
    get(
        "history.page1",
        f"{API}/metrics/get-history",
        ("run_id", "${run2}"),
        ("metric_key", "m"),
        ("max_results", "2"),
        capture=(("hist_token", "next_page_token"),),
    ),
    get(
        "history.page2",
        f"{API}/metrics/get-history",
        ("run_id", "${run2}"),
        ("metric_key", "m"),
        ("max_results", "2"),
        ("page_token", "${hist_token}"),
    ),
    get("history.unknown-key", f"{API}/metrics/get-history", ("run_id", "${run1}"), ("metric_key", "nope")),
    get(
        "history.unknown-run",
        f"{API}/metrics/get-history",
        ("run_id", "0123456789abcdef0123456789abcdef"),
        ("metric_key", "m"),
    ),
    get(
        "history.zero-max-results",
        f"{API}/metrics/get-history",
        ("run_id", "${run1}"),
        ("metric_key", "loss"),
        ("max_results", "0"),
    ),
    get("history.no-key", f"{API}/metrics/get-history", ("run_id", "${run1}")),
    get(
        "bulk-interval",
        f"{API}/metrics/get-history-bulk-interval",
        ("run_ids", "${run2}"),
        ("run_ids", "${run1}"),
        ("metric_key", "m"),
        ("max_results", "3"),
    ),
    get(
        "bulk-interval.steps",
        f"{API}/metrics/get-history-bulk-interval",
        ("run_ids", "${run2}"),
        ("metric_key", "m"),
        ("start_step", "1"),
        ("end_step", "3"),
    ),
    get(
        "bulk-interval.one-bound",
        f"{API}/metrics/get-history-bulk-interval",
        ("run_ids", "${run2}"),
        ("metric_key", "m"),
        ("start_step", "1"),
    ),
    get(
        "bulk-interval.too-many-results",
        f"{API}/metrics/get-history-bulk-interval",
        ("run_ids", "${run2}"),
        ("metric_key", "m"),
        ("max_results", "2501"),
    ),
    post(
        "runs.search.filter-order",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "filter": "metrics.m >= 0", "order_by": ["metrics.m DESC"]},
    ),
    post("runs.search.default-order", f"{API}/runs/search", {"experiment_ids": ["${exp_a}"]}),
    post(
        "runs.search.param",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "filter": "params.p1 = 'x' and tags.t1 = 'v1'"},
    ),
    post(
        "runs.search.name",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "filter": "attributes.run_name = 'r1'"},
    ),
    post(
        "runs.search.page1",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "max_results": 2, "order_by": ["attributes.start_time ASC"]},
        capture=(("runs_token", "next_page_token"),),
    ),
    post(
        "runs.search.page2",
        f"{API}/runs/search",
        {
            "experiment_ids": ["${exp_a}"],
            "max_results": 2,
            "order_by": ["attributes.start_time ASC"],
            "page_token": "${runs_token}",
        },
    ),
    post("runs.search.no-experiments", f"{API}/runs/search", {}),
    post(
        "runs.search.bad-comparator",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "filter": "metrics.x >> 1"},
    ),
    post(
        "runs.search.or",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "filter": "metrics.x > 1 OR metrics.x < 0"},
    ),
    post(
        "runs.search.max-results-too-big",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "max_results": 50001},
    ),
    post(
        "runs.search.duplicate-order-by",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "order_by": ["metrics.m ASC", "metrics.m DESC"]},
    ),
    post("runs.search.bad-experiment-id", f"{API}/runs/search", {"experiment_ids": ["abc"]}),
    post(
        "run.update",
        f"{API}/runs/update",
        {"run_id": "${run1}", "status": "FINISHED", "end_time": T0 + 5000},
    ),
    post("run.update.rename", f"{API}/runs/update", {"run_id": "${run1}", "run_name": "r1-renamed"}),
    post(
        "run.update.missing",
        f"{API}/runs/update",
        {"run_id": "0123456789abcdef0123456789abcdef", "status": "FINISHED"},
    ),
    post(
        "run.log-inputs",
        f"{API}/runs/log-inputs",
        {
            "run_id": "${run1}",
            "datasets": [
                {
                    "tags": [{"key": "mlflow.data.context", "value": "train"}],
                    "dataset": {
                        "name": "ds",
                        "digest": "abcd1234",
                        "source_type": "code",
                        "source": '{"tags": {}}',
                        "schema": "",
                        "profile": '{"num_rows": 3}',
                    },
                }
            ],
        },
    ),
    post(
        "run.log-inputs.digest-too-long",
        f"{API}/runs/log-inputs",
        {
            "run_id": "${run1}",
            "datasets": [
                {"dataset": {"name": "ds2", "digest": "d" * 37, "source_type": "code", "source": "x"}}
            ],
        },
    ),
    get("run.get.final", f"{API}/runs/get", ("run_id", "${run1}")),
    post("run.delete", f"{API}/runs/delete", {"run_id": "${run2}"}),
    post("run.delete.again", f"{API}/runs/delete", {"run_id": "${run2}"}),
    post(
        "metric.log.deleted-run", f"{API}/runs/log-metric", {"run_id": "${run2}", **_metric("late", 1.0, 0)}
    ),
    post("tag.set.deleted-run", f"{API}/runs/set-tag", {"run_id": "${run2}", "key": "late", "value": "x"}),
    post(
        "runs.search.deleted-only",
        f"{API}/runs/search",
        {"experiment_ids": ["${exp_a}"], "run_view_type": "DELETED_ONLY"},
    ),
    post("run.restore", f"{API}/runs/restore", {"run_id": "${run2}"}),
    post("run.delete.missing", f"{API}/runs/delete", {"run_id": "0123456789abcdef0123456789abcdef"}),
    post("exp.delete.a", f"{API}/experiments/delete", {"experiment_id": "${exp_a}"}),
    post(
        "run.create.in-deleted-experiment",
        f"{API}/runs/create",
        {"experiment_id": "${exp_a}", "start_time": T0},
    ),
    post("exp.restore.a", f"{API}/experiments/restore", {"experiment_id": "${exp_a}"}),
]

ARTIFACTS: list[Step] = [
    Step(
        "artifact.put",
        "PUT",
        f"{ART}/${{exp_a}}/${{run1}}/artifacts/dir/hello.txt",
        raw=b"hello world\n",
        headers=(("Content-Type", "text/plain"),),
    ),
    Step(
        "artifact.put.nested",
        "PUT",
        f"{ART}/${{exp_a}}/${{run1}}/artifacts/dir/sub/data.bin",
        raw=bytes(range(256)) * 4,
        headers=(("Content-Type", "application/octet-stream"),),
    ),
    get("artifact.list.root", ART, ("path", "${exp_a}/${run1}/artifacts")),
    get("artifact.list.dir", ART, ("path", "${exp_a}/${run1}/artifacts/dir")),
    get("artifact.list.file", ART, ("path", "${exp_a}/${run1}/artifacts/dir/hello.txt")),
    get("artifact.list.missing", ART, ("path", "${exp_a}/${run1}/artifacts/nope")),
    get("artifact.get", f"{ART}/${{exp_a}}/${{run1}}/artifacts/dir/hello.txt"),
    get("artifact.get.missing", f"{ART}/${{exp_a}}/${{run1}}/artifacts/nope.txt"),
    get("artifacts.list.tracking-api", f"{API}/artifacts/list", ("run_id", "${run1}"), ("path", "dir")),
    get("artifacts.list.tracking-api.root", f"{API}/artifacts/list", ("run_id", "${run1}")),
    get(
        "artifacts.list.tracking-api.traversal",
        f"{API}/artifacts/list",
        ("run_id", "${run1}"),
        ("path", "../x"),
    ),
    Step("artifact.delete", "DELETE", f"{ART}/${{exp_a}}/${{run1}}/artifacts/dir/sub/data.bin"),
    get("artifact.list.after-delete", ART, ("path", "${exp_a}/${run1}/artifacts/dir/sub")),
]

LOGGED_MODELS: list[Step] = [
    post(
        "model.create",
        f"{API}/logged-models",
        {
            "experiment_id": "${exp_a}",
            "name": "model",
            "source_run_id": "${run1}",
            "params": [{"key": "alpha", "value": "0.5"}],
            "tags": [{"key": "mt", "value": "1"}],
        },
        capture=(("model1", "model.info.model_id"),),
    ),
    get("model.get", f"{API}/logged-models/${{model1}}"),
    get("model.get.missing", f"{API}/logged-models/m-0123456789abcdef0123456789abcdef"),
    Step(
        "model.finalize",
        "PATCH",
        f"{API}/logged-models/${{model1}}",
        json={"model_id": "${model1}", "status": "LOGGED_MODEL_READY"},
    ),
    post(
        "model.search",
        f"{API}/logged-models/search",
        {"experiment_ids": ["${exp_a}"], "filter": "name = 'model'"},
    ),
    post(
        "model.search.none",
        f"{API}/logged-models/search",
        {"experiment_ids": ["${exp_a}"], "filter": "name = 'tree'"},
    ),
    post(
        "run.outputs",
        f"{API}/runs/outputs",
        {"run_id": "${run1}", "models": [{"model_id": "${model1}", "step": 0}]},
    ),
    post("run.outputs.empty", f"{API}/runs/outputs", {"run_id": "${run1}"}),
    get("run.get.with-outputs", f"{API}/runs/get", ("run_id", "${run1}")),
]

TRANSPORT: list[Step] = [
    get("health", "/health"),
    get(
        "server-info",
        "/api/3.0/mlflow/server-info",
        compare="keys:store_type,multipart_uploads_enabled,multipart_downloads_enabled",
    ),
    get("unknown-route", f"{API}/runs/nope"),
    get("wrong-method", f"{API}/runs/search"),
    Step("no-content-type", "POST", f"{API}/experiments/create", raw=b'{"name": "ct"}'),
    Step(
        "wrong-content-type",
        "POST",
        f"{API}/experiments/create",
        raw=b'{"name": "ct"}',
        headers=(("Content-Type", "text/plain"),),
    ),
    Step(
        "malformed-json",
        "POST",
        f"{API}/experiments/create",
        raw=b'{"name": ',
        headers=(("Content-Type", "application/json"),),
        compare="status",
    ),
    get("ajax-prefix", "/ajax-api/2.0/mlflow/experiments/get", ("experiment_id", "0")),
]

SCENARIO: list[Step] = EXPERIMENTS + RUNS + ARTIFACTS + LOGGED_MODELS + TRANSPORT


@dataclasses.dataclass(frozen=True)
class KnownDifference:
    """A documented, accepted divergence: runstash may answer `status`/`error_code` (body not
    compared) where MLflow answers differently. A runstash answer equal to MLflow's is fine too."""

    reason: str
    status: int
    error_code: str | None


KNOWN_DIFFERENCES: dict[str, KnownDifference] = {
    "exp.rename.taken": KnownDifference(
        "MLflow leaks the raw DB error as 400 BAD_REQUEST; a clean RESOURCE_ALREADY_EXISTS 400 is the "
        "compatible improvement (mlflow-rest.md §6.2)",
        400,
        "RESOURCE_ALREADY_EXISTS",
    ),
    "exp.rename.deleted": KnownDifference(
        "MLflow answers 500 INVALID_STATE, which the client retries for minutes; a deterministic client "
        "error must be a 4xx (mlflow-rest.md §2.5, limits.md §3)",
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "runs.search.duplicate-order-by": KnownDifference(
        "MLflow answers 500 INTERNAL_ERROR (retried by the client); runstash rejects it as bad input "
        "(limits.md §6)",
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "exp.create.blank-name": KnownDifference(
        "MLflow 3.18 (the spec, limits.md §2) rejects a blank experiment name; the 3.17.2 reference "
        "still accepts it",
        400,
        "INVALID_PARAMETER_VALUE",
    ),
}

# Bodies compared only by error_code/status: MLflow embeds raw database driver text in the message
# (e.g. "(sqlite3.IntegrityError) UNIQUE constraint failed ..."), which no other implementation
# reproduces; the message prefix up to "Error:" is compared instead.
DB_TEXT_MESSAGES = {"exp.create.duplicate", "exp.create.same-as-deleted"}
