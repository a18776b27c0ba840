"""Store semantics on SQLite, PostgreSQL and MariaDB (one real database per kind)."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable

import pytest
from runstash_metadata.store.metrics import MetricPoint
from runstash_metadata.store.sampled_history import sampled_positions
from runstash_metadata.store.values import MAX_DOUBLE
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

from tests.metadata.store_driver import StoreDriver


def _error(fn: Callable[[], object]) -> RunstashError:
    with pytest.raises(RunstashError) as info:
        fn()
    return info.value


def _latest(store: StoreDriver, run_id: str) -> dict[str, pb.Metric]:
    return {m.key: m for m in store.get_run(run_id).data.metrics}


# ---------------------------------------------------------------- experiments


def test_default_experiment_exists(store: StoreDriver) -> None:
    exp = store.get_experiment(0)
    assert exp.name == "Default"
    assert exp.artifact_location == "mlflow-artifacts:/0"
    assert exp.lifecycle_stage == "active"
    assert exp.workspace == "default"


def test_create_get_experiment(store: StoreDriver, unique: Callable[[str], str]) -> None:
    name = unique("exp")
    experiment_id = store.create_experiment(name, tags=[("team", "a"), ("team", "b")])
    exp = store.get_experiment(int(experiment_id))
    assert exp.name == name
    assert exp.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert [(t.key, t.value) for t in exp.tags] == [("team", "b")]
    assert exp.creation_time > 0 and exp.last_update_time == exp.creation_time
    assert store.get_experiment_by_name(name).experiment_id == experiment_id
    explicit = store.create_experiment(unique("exp"), artifact_location="s3://bucket/x")
    assert store.get_experiment(int(explicit)).artifact_location == "s3://bucket/x"


def test_experiment_not_found_messages(store: StoreDriver) -> None:
    err = _error(lambda: store.get_experiment(987654))
    assert (err.code, err.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        "No Experiment with id=987654 exists",
    )
    err = _error(lambda: store.get_experiment_by_name("no-such-exp"))
    assert err.code == ErrorCode.RESOURCE_DOES_NOT_EXIST
    assert err.message == "Could not find experiment with name 'no-such-exp'"


def test_experiment_names_unique_across_deleted(store: StoreDriver, unique: Callable[[str], str]) -> None:
    name = unique("exp")
    experiment_id = int(store.create_experiment(name))
    store.delete_experiment(experiment_id)
    err = _error(lambda: store.create_experiment(name))
    assert err.code == ErrorCode.RESOURCE_ALREADY_EXISTS
    assert err.message.startswith(f"Experiment(name={name}) already exists. Error: ")


def test_names_are_case_sensitive(store: StoreDriver, unique: Callable[[str], str]) -> None:
    name = unique("Exp")
    store.create_experiment(name)
    store.create_experiment(name.lower())  # MySQL's default *_ci collation would reject this
    assert store.get_experiment_by_name(name).name == name


def test_rename_experiment(store: StoreDriver, unique: Callable[[str], str]) -> None:
    a, b = unique("a"), unique("b")
    ida = int(store.create_experiment(a))
    store.create_experiment(b)
    err = _error(lambda: store.rename_experiment(ida, b))
    assert err.code == ErrorCode.RESOURCE_ALREADY_EXISTS
    renamed = unique("renamed")
    store.rename_experiment(ida, renamed)
    assert store.get_experiment(ida).name == renamed
    store.delete_experiment(ida)
    err = _error(lambda: store.rename_experiment(ida, unique("again")))
    assert (err.code, err.message) == (ErrorCode.INVALID_STATE, "Cannot rename a non-active experiment.")


def test_delete_restore_cascades_to_runs(store: StoreDriver, experiment_id: int) -> None:
    kept = store.create_run(experiment_id).info.run_id
    deleted_before = store.create_run(experiment_id).info.run_id
    store.delete_run(deleted_before)
    store.delete_experiment(experiment_id)
    exp = store.get_experiment(experiment_id)
    assert exp.lifecycle_stage == "deleted"
    assert store.get_run(kept).info.lifecycle_stage == "deleted"
    # Deleted twice / restored while active: 404 with the experiment message.
    err = _error(lambda: store.delete_experiment(experiment_id))
    assert (err.code, err.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        f"No Experiment with id={experiment_id} exists",
    )
    err = _error(lambda: store.create_run(experiment_id))
    assert err.code == ErrorCode.INVALID_PARAMETER_VALUE
    assert err.message == (
        f"The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
    )
    store.restore_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == "active"
    assert store.get_run(kept).info.lifecycle_stage == "active"
    assert store.get_run(deleted_before).info.lifecycle_stage == "active"
    err = _error(lambda: store.restore_experiment(experiment_id))
    assert err.code == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_experiment_tags(store: StoreDriver, experiment_id: int) -> None:
    store.set_experiment_tag(experiment_id, "k", "v1")
    store.set_experiment_tag(experiment_id, "k", "v2")
    assert [(t.key, t.value) for t in store.get_experiment(experiment_id).tags] == [("k", "v2")]
    store.delete_experiment_tag(experiment_id, "k")
    assert list(store.get_experiment(experiment_id).tags) == []
    err = _error(lambda: store.delete_experiment_tag(experiment_id, "k"))
    assert (err.code, err.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        f"No tag with name: k in experiment with id {experiment_id}",
    )
    store.delete_experiment(experiment_id)
    err = _error(lambda: store.set_experiment_tag(experiment_id, "k", "v"))
    assert err.code == ErrorCode.INVALID_PARAMETER_VALUE


def test_custom_view_tag_cap(store: StoreDriver, experiment_id: int) -> None:
    for i in range(50):
        store.set_experiment_tag(experiment_id, f"mlflow.customView.view{i}", "{}")
    store.set_experiment_tag(experiment_id, "mlflow.customView.view3", "overwrite is fine")
    err = _error(lambda: store.set_experiment_tag(experiment_id, "mlflow.customView.view50", "{}"))
    assert "maximum number of custom views per experiment is 50" in err.message


# ---------------------------------------------------------------- runs


def test_create_run_shape(store: StoreDriver, experiment_id: int) -> None:
    run = store.create_run(experiment_id, user_id="u", start_time=42, tags=[("t", "v")])
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id) and info.run_uuid == info.run_id
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", info.run_name)
    assert info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{info.run_id}/artifacts"
    assert info.status == pb.RUNNING and info.lifecycle_stage == "active"
    assert (info.start_time, info.HasField("end_time"), info.user_id) == (42, False, "u")
    assert {(t.key, t.value) for t in run.data.tags} == {("t", "v"), ("mlflow.runName", info.run_name)}
    assert run.HasField("inputs") and not run.HasField("outputs")


def test_run_name_and_tag(store: StoreDriver, experiment_id: int) -> None:
    run = store.create_run(experiment_id, tags=[("mlflow.runName", "from-tag")])
    assert run.info.run_name == "from-tag"
    run = store.create_run(experiment_id, run_name="same", tags=[("mlflow.runName", "same")])
    assert run.info.run_name == "same"
    # An empty tag counts as absent; a conflicting pair is refused by the request's check
    # (test_servicer.py::test_create_run_name_and_tag_must_agree).
    run = store.create_run(experiment_id, run_name="named", tags=[("mlflow.runName", "")])
    assert run.info.run_name == "named"


def test_create_run_unknown_experiment(store: StoreDriver) -> None:
    err = _error(lambda: store.create_run(99999))
    assert (err.code, err.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        "No Experiment with id=99999 exists",
    )


def test_create_run_tags_round_trip_any_text(store: StoreDriver, unique: Callable[[str], str]) -> None:
    exp = int(store.create_experiment(unique("odd"), artifact_location="s3://b/p/"))
    odd = {"q": 'say "hi"', "bs": "a\\b\\", "braces": "{a,b}", "empty": "", "uni": "héllo ✓", "NULL": "NULL"}
    run = store.create_run(exp, user_id="u", start_time=5, tags=sorted(odd.items()))
    assert run.info.artifact_uri == f"s3://b/p/{run.info.run_id}/artifacts"
    stored = store.get_run(run.info.run_id)
    assert stored.info.artifact_uri == run.info.artifact_uri
    assert {t.key: t.value for t in stored.data.tags} == {**odd, "mlflow.runName": run.info.run_name}
    store.delete_experiment(exp)
    err = _error(lambda: store.create_run(exp))
    assert err.code == ErrorCode.INVALID_PARAMETER_VALUE and "must be in the 'active' state" in err.message
    assert _error(lambda: store.create_run(987654321)).code == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_update_run(store: StoreDriver, run_id: str) -> None:
    info = store.update_run(run_id, status="FINISHED", end_time=2000)
    assert (info.status, info.end_time) == (pb.FINISHED, 2000)
    info = store.update_run(run_id, run_name="new-name")
    assert info.run_name == "new-name" and info.status == pb.FINISHED
    tags = {t.key: t.value for t in store.get_run(run_id).data.tags}
    assert tags["mlflow.runName"] == "new-name"


def test_delete_restore_run_idempotent(store: StoreDriver, run_id: str) -> None:
    store.delete_run(run_id)
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == "deleted"
    for write in (
        lambda: store.log_param(run_id, "p", "1"),
        lambda: store.log_metric(run_id, MetricPoint("m", 1.0, 1)),
        lambda: store.set_tag(run_id, "t", "v"),
        lambda: store.update_run(run_id, status="FAILED"),
        lambda: store.log_batch(run_id, metrics=[MetricPoint("m", 1.0, 1)]),
        lambda: store.log_outputs(run_id, [("m-x", 0)]),
    ):
        err = _error(write)
        assert (err.code, err.message) == (
            ErrorCode.INVALID_PARAMETER_VALUE,
            f"The run {run_id} must be in the 'active' state. Current state is deleted.",
        )
    store.restore_run(run_id)
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == "active"


def test_unknown_run(store: StoreDriver) -> None:
    rid = "0" * 32
    for call in (
        lambda: store.get_run(rid),
        lambda: store.delete_run(rid),
        lambda: store.restore_run(rid),
        lambda: store.log_param(rid, "p", "v"),
        lambda: store.log_batch(rid, metrics=[MetricPoint("m", 1.0, 1)]),
    ):
        err = _error(call)
        assert (err.code, err.message) == (ErrorCode.RESOURCE_DOES_NOT_EXIST, f"Run with id={rid} not found")


# ---------------------------------------------------------------- metrics


def test_latest_metric_rule_with_nan(store: StoreDriver, run_id: str) -> None:
    store.log_metric(run_id, MetricPoint("loss", 0.5, 100, 0))
    store.log_metric(run_id, MetricPoint("loss", 0.4, 101, 1))
    store.log_metric(run_id, MetricPoint("loss", math.nan, 102, 2))
    latest = _latest(store, run_id)["loss"]
    assert math.isnan(latest.value) and latest.step == 2
    # An older step never replaces the latest, even with a later timestamp.
    store.log_metric(run_id, MetricPoint("loss", 9.0, 999, 1))
    assert _latest(store, run_id)["loss"].step == 2
    # Same step: the later timestamp wins; same step+timestamp: the greater value wins.
    store.log_metric(run_id, MetricPoint("loss", 0.1, 103, 2))
    assert (_latest(store, run_id)["loss"].value, _latest(store, run_id)["loss"].timestamp) == (0.1, 103)
    store.log_metric(run_id, MetricPoint("loss", 0.05, 103, 2))
    assert _latest(store, run_id)["loss"].value == 0.1
    store.log_metric(run_id, MetricPoint("loss", 0.7, 103, 2))
    assert _latest(store, run_id)["loss"].value == 0.7


def test_latest_within_one_batch(store: StoreDriver, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[
            MetricPoint("acc", 0.9, 10, 5),
            MetricPoint("acc", 0.1, 50, 3),
            MetricPoint("acc", 0.8, 11, 5),
            MetricPoint("f1", 0.3, 1, 0),
        ],
    )
    latest = _latest(store, run_id)
    assert (latest["acc"].value, latest["acc"].step, latest["acc"].timestamp) == (0.8, 5, 11)
    assert latest["f1"].value == 0.3


def test_infinities_are_clamped(store: StoreDriver, run_id: str) -> None:
    store.log_batch(run_id, metrics=[MetricPoint("pos", math.inf, 1), MetricPoint("neg", -math.inf, 1)])
    latest = _latest(store, run_id)
    assert (latest["pos"].value, latest["neg"].value) == (MAX_DOUBLE, -MAX_DOUBLE)
    history, _ = store.get_metric_history(run_id, "pos")
    assert [m.value for m in history] == [MAX_DOUBLE]


def test_duplicate_points_are_ignored(store: StoreDriver, run_id: str) -> None:
    point = MetricPoint("m", 1.5, 10, 1)
    store.log_batch(run_id, metrics=[point, point])
    store.log_metric(run_id, point)
    store.log_metric(run_id, MetricPoint("m", math.nan, 10, 1))
    store.log_metric(run_id, MetricPoint("m", math.nan, 10, 1))
    history, _ = store.get_metric_history(run_id, "m")
    assert len(history) == 2
    assert sum(math.isnan(m.value) for m in history) == 1


def test_resent_batch_is_stored_once(store: StoreDriver, run_id: str) -> None:
    """A batch overlapping stored points (a client retry) keeps every point once, with its
    params and tags, and the latest value follows the newest point."""
    first = [MetricPoint("r", float(i), 100 + i, i) for i in range(50)]
    store.log_batch(run_id, metrics=first, params=[("p", "1")], tags=[("t", "a")])
    resent = [*first[25:], *(MetricPoint("r", float(i), 100 + i, i) for i in range(50, 60))]
    store.log_batch(run_id, metrics=resent, params=[("p", "1"), ("q", "2")], tags=[("t", "b")])
    history, _ = store.get_metric_history(run_id, "r")
    assert [m.step for m in history] == list(range(60))
    data = store.get_run(run_id).data
    assert {p.key: p.value for p in data.params} == {"p": "1", "q": "2"}
    assert {t.key: t.value for t in data.tags}["t"] == "b"
    assert _latest(store, run_id)["r"].step == 59


def test_metric_history_order_and_paging(store: StoreDriver, run_id: str) -> None:
    points = [MetricPoint("h", float(i), 100 - i, i) for i in range(5)]  # timestamps descending
    store.log_batch(run_id, metrics=points)
    history, token = store.get_metric_history(run_id, "h")
    assert [m.timestamp for m in history] == [96, 97, 98, 99, 100] and token is None
    page1, token = store.get_metric_history(run_id, "h", max_results=2)
    assert [m.step for m in page1] == [4, 3]
    assert token is not None
    assert json.loads(base64.b64decode(token)) == {"offset": 2}
    page2, token = store.get_metric_history(run_id, "h", max_results=2, page_token=token)
    assert [m.step for m in page2] == [2, 1]
    page3, token3 = store.get_metric_history(run_id, "h", max_results=2, page_token=token)
    assert [m.step for m in page3] == [0] and token3 is None
    assert store.get_metric_history(run_id, "nope") == ([], None)
    assert store.get_metric_history("f" * 32, "h") == ([], None)
    err = _error(lambda: store.get_metric_history(run_id, "h", 2, "%%%"))
    assert err.message.startswith("Invalid page token")


def test_bulk_interval_sampling(store: StoreDriver, experiment_id: int) -> None:
    a = store.create_run(experiment_id).info.run_id
    b = store.create_run(experiment_id).info.run_id
    store.log_batch(a, metrics=[MetricPoint("s", float(i), 1000 + i, i) for i in range(100)])
    store.log_batch(b, metrics=[MetricPoint("s", float(i), 1000 + i, i) for i in range(3)])
    got = store.get_metric_history_bulk_interval([b, a, "0" * 32, b], "s", max_results=10)
    by_run = [m.run_id for m in got]
    assert by_run == [b] * 3 + [a] * 10 + [b] * 3  # request order, repeats repeated
    # MLflow's NTILE sample: the first point of each of 10 buckets, the last point in place of the
    # last bucket's first.
    assert [m.step for m in got if m.run_id == a] == [0, 10, 20, 30, 40, 50, 60, 70, 80, 99]
    windowed = store.get_metric_history_bulk_interval([a], "s", max_results=5, start_step=10, end_step=20)
    assert [m.step for m in windowed] == [10, 13, 15, 17, 20]
    assert [m.step for m in store.get_metric_history_bulk_interval([a], "s", max_results=1)] == [99]


@pytest.mark.parametrize(("steps", "count"), [(25, 10), (70, 10), (300, 10), (37, 7), (9, 10), (1, 3)])
def test_bulk_interval_matches_the_definition(
    store: StoreDriver, run_id: str, steps: int, count: int
) -> None:
    """The SQL sample equals sampled_positions() over the whole ordered history; a step may
    hold several points (ordered by timestamp, then value)."""
    points = [MetricPoint("d", float(i), 100 + i, i) for i in range(steps)]
    points += [MetricPoint("d", -1.0, 7, i) for i in range(0, steps, 4)]  # second point at some steps
    store.log_batch(run_id, metrics=points)
    ordered = sorted((p.step, p.timestamp, p.value) for p in points)
    expected = [ordered[i] for i in sampled_positions(len(ordered), count)]
    got = store.get_metric_history_bulk_interval([run_id], "d", max_results=count)
    assert [(m.step, m.timestamp, m.value) for m in got] == expected


def test_bulk_interval_many_points_per_step(store: StoreDriver, run_id: str) -> None:
    # All points at step 0 (system metrics): sampling must go by position, not by step value.
    store.log_batch(run_id, metrics=[MetricPoint("sys", float(i), 5000 + i, 0) for i in range(50)])
    got = store.get_metric_history_bulk_interval([run_id], "sys", max_results=10)
    stamps = [m.timestamp for m in got]
    assert len(stamps) == 10 and stamps[0] == 5000 and stamps[-1] == 5049
    assert stamps == sorted(stamps) and len(set(stamps)) == 10
    assert len(store.get_metric_history_bulk_interval([run_id], "sys", max_results=2500)) == 50


def test_bulk_interval_sparse_steps(store: StoreDriver, run_id: str) -> None:
    store.log_batch(run_id, metrics=[MetricPoint("sp", float(i), 1, i * i) for i in range(30)])
    got = store.get_metric_history_bulk_interval([run_id], "sp", max_results=10)
    steps = [m.step for m in got]
    assert steps[0] == 0 and steps[-1] == 29 * 29 and len(steps) <= 10
    assert steps == sorted(set(steps))


def test_history_bulk(store: StoreDriver, experiment_id: int) -> None:
    runs = sorted(store.create_run(experiment_id).info.run_id for _ in range(2))
    for rid in reversed(runs):
        store.log_batch(rid, metrics=[MetricPoint("b", float(i), 10 - i, i) for i in range(3)])
    got = store.get_metric_history_bulk(list(reversed(runs)), "b", max_results=4)
    assert [(m.run_id, m.timestamp) for m in got] == [(runs[0], 8), (runs[0], 9), (runs[0], 10), (runs[1], 8)]


# ---------------------------------------------------------------- params, tags, batches


def test_params_write_once(store: StoreDriver, run_id: str) -> None:
    store.log_param(run_id, "lr", "0.01")
    store.log_param(run_id, "lr", "0.01")
    err = _error(lambda: store.log_param(run_id, "lr", "0.02"))
    assert err.message == (
        "Changing param values is not allowed. Param with key='lr' was already logged with "
        f"value='0.01' for run ID='{run_id}'. Attempted logging new value '0.02'."
    )
    err = _error(lambda: store.log_batch(run_id, params=[("lr", "0.03")]))
    assert err.message == (
        "Changing param values is not allowed. Params were already logged="
        f"'[{{'key': 'lr', 'old_value': '0.01', 'new_value': '0.03'}}]' for run ID='{run_id}'."
    )
    store.log_param(run_id, "LR", "other")  # keys are case-sensitive everywhere
    params = {p.key: p.value for p in store.get_run(run_id).data.params}
    assert params == {"lr": "0.01", "LR": "other"}


def test_batch_is_all_or_nothing(store: StoreDriver, run_id: str) -> None:
    store.log_param(run_id, "fixed", "1")
    err = _error(
        lambda: store.log_batch(
            run_id,
            metrics=[MetricPoint("never", 1.0, 1)],
            params=[("new", "x"), ("fixed", "2")],
            tags=[("never", "x")],
        )
    )
    assert err.code == ErrorCode.INVALID_PARAMETER_VALUE
    run = store.get_run(run_id)
    assert [m.key for m in run.data.metrics] == []
    assert {p.key for p in run.data.params} == {"fixed"}
    assert "never" not in {t.key for t in run.data.tags}
    assert store.get_metric_history(run_id, "never") == ([], None)


def test_unknown_model_id_rolls_back_batch(store: StoreDriver, run_id: str) -> None:
    err = _error(
        lambda: store.log_batch(
            run_id, metrics=[MetricPoint("m", 1.0, 1), MetricPoint("m2", 1.0, 1, model_id="m-" + "0" * 32)]
        )
    )
    assert err.code == ErrorCode.BAD_REQUEST
    assert store.get_metric_history(run_id, "m") == ([], None)


def test_tags(store: StoreDriver, run_id: str) -> None:
    store.set_tag(run_id, "a", "1")
    store.set_tag(run_id, "a", "2")
    store.set_tag(run_id, "mlflow.runName", "renamed")
    run = store.get_run(run_id)
    assert run.info.run_name == "renamed"
    assert {t.key: t.value for t in run.data.tags}["a"] == "2"
    store.delete_tag(run_id, "a")
    err = _error(lambda: store.delete_tag(run_id, "a"))
    assert (err.code, err.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        f"No tag with name: a in run with id {run_id}",
    )
    store.log_batch(run_id, tags=[("mlflow.runName", "batch-name")])
    assert store.get_run(run_id).info.run_name == "batch-name"


def test_long_values_are_truncated(store: StoreDriver, run_id: str) -> None:
    store.log_param(run_id, "long", "x" * 7000)
    store.set_tag(run_id, "long", "y" * 9000)
    run = store.get_run(run_id)
    assert len({p.key: p.value for p in run.data.params}["long"]) == 6000
    assert len({t.key: t.value for t in run.data.tags}["long"]) == 8000


def test_log_model_history_tag(store: StoreDriver, run_id: str) -> None:
    store.log_model(run_id, {"artifact_path": "m", "flavors": {}, "utc_time_created": "t", "run_id": run_id})
    store.log_model(run_id, {"artifact_path": "n", "flavors": {}, "utc_time_created": "t", "run_id": run_id})
    tags = {t.key: t.value for t in store.get_run(run_id).data.tags}
    assert [m["artifact_path"] for m in json.loads(tags["mlflow.log-model.history"])] == ["m", "n"]


# ---------------------------------------------------------------- inputs, outputs, datasets


def _dataset_input(name: str, digest: str, context: str) -> pb.DatasetInput:
    return pb.DatasetInput(
        dataset=pb.Dataset(name=name, digest=digest, source_type="code", source="{}", schema='{"s": 1}'),
        tags=[pb.InputTag(key="mlflow.data.context", value=context)],
    )


def test_inputs_outputs_and_datasets(store: StoreDriver, experiment_id: int) -> None:
    run_a = store.create_run(experiment_id).info.run_id
    run_b = store.create_run(experiment_id).info.run_id
    model = store.create_logged_model(experiment_id, name="model")
    train = _dataset_input("ds", "d1", "train")
    store.log_inputs(run_a, [train, train], [model.info.model_id])
    store.log_inputs(run_a, [train], [model.info.model_id])  # re-logging changes nothing
    store.log_inputs(run_b, [train, _dataset_input("ds", "d2", "eval")])
    store.log_outputs(run_a, [(model.info.model_id, 3)])
    run = store.get_run(run_a)
    assert len(run.inputs.dataset_inputs) == 1
    di = run.inputs.dataset_inputs[0]
    assert (di.dataset.name, di.dataset.digest, di.dataset.schema) == ("ds", "d1", '{"s": 1}')
    assert not di.dataset.HasField("profile")
    assert [(t.key, t.value) for t in di.tags] == [("mlflow.data.context", "train")]
    assert [m.model_id for m in run.inputs.model_inputs] == [model.info.model_id]
    assert [(o.model_id, o.step) for o in run.outputs.model_outputs] == [(model.info.model_id, 3)]
    summaries = store.search_datasets([experiment_id])
    assert sorted((s.name, s.digest, s.context) for s in summaries) == [
        ("ds", "d1", "train"),
        ("ds", "d2", "eval"),
    ]


def test_empty_dataset_schema_and_profile_are_left_out(store: StoreDriver, run_id: str) -> None:
    # As MLflow: an empty schema/profile is absent from the returned dataset, not "".
    dataset = pb.Dataset(name="e", digest="d", source_type="code", source="{}", schema="", profile="")
    store.log_inputs(run_id, [pb.DatasetInput(dataset=dataset)])
    got = store.get_run(run_id).inputs.dataset_inputs[0].dataset
    assert not got.HasField("schema") and not got.HasField("profile")


# ---------------------------------------------------------------- logged models


def test_logged_model_lifecycle(store: StoreDriver, experiment_id: int, run_id: str) -> None:
    model = store.create_logged_model(
        experiment_id, source_run_id=run_id, params=[("alpha", "0.5")], tags=[("t", "1")]
    )
    info = model.info
    assert re.fullmatch(r"m-[0-9a-f]{32}", info.model_id)
    assert info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/models/{info.model_id}/artifacts"
    assert info.status == pb.LOGGED_MODEL_PENDING
    assert info.name and info.HasField("model_type") and info.model_type == ""
    assert info.source_run_id == run_id
    assert [(p.key, p.value) for p in model.data.params] == [("alpha", "0.5")]
    ready = store.finalize_logged_model(info.model_id, pb.LOGGED_MODEL_READY)
    assert ready.info.status == pb.LOGGED_MODEL_READY
    assert ready.info.last_updated_timestamp_ms >= info.last_updated_timestamp_ms
    store.set_logged_model_tags(info.model_id, [("t", "2"), ("u", "3")])
    store.delete_logged_model_tag(info.model_id, "u")
    store.log_logged_model_params(info.model_id, [("beta", "1")])
    store.log_metric(
        run_id, MetricPoint("acc", 0.75, 5, 2, model_id=info.model_id, dataset_name="d", dataset_digest="x")
    )
    got = store.get_logged_model(info.model_id)
    assert [(t.key, t.value) for t in got.info.tags] == [("t", "2")]
    assert {p.key for p in got.data.params} == {"alpha", "beta"}
    (metric,) = got.data.metrics
    assert (metric.key, metric.value, metric.step, metric.run_id, metric.model_id) == (
        "acc",
        0.75,
        2,
        run_id,
        info.model_id,
    )
    assert (metric.dataset_name, metric.dataset_digest) == ("d", "x")
    store.delete_logged_model(info.model_id)
    err = _error(lambda: store.get_logged_model(info.model_id))
    assert (err.code, err.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        f"Logged model with ID '{info.model_id}' not found.",
    )
    assert store.get_logged_model(info.model_id, allow_deleted=True).info.model_id == info.model_id


# ---------------------------------------------------------------- search (the search package's plans)


def test_search_runs_hydrates_pages(store: StoreDriver, experiment_id: int) -> None:
    pytest.importorskip("runstash_metadata.search.runs")
    ids = []
    for i in range(5):
        rid = store.create_run(experiment_id, start_time=1000 + i).info.run_id
        store.log_batch(rid, metrics=[MetricPoint("acc", i / 10, 1)], params=[("i", str(i))])
        ids.append(rid)
    store.delete_run(ids[0])
    runs, token = store.search_runs([experiment_id], max_results=2)
    assert [r.info.run_id for r in runs] == [ids[4], ids[3]] and token
    assert {p.key: p.value for p in runs[0].data.params} == {"i": "4"}
    more, token = store.search_runs([experiment_id], max_results=2, page_token=token)
    assert [r.info.run_id for r in more] == [ids[2], ids[1]]
    filtered, _ = store.search_runs([experiment_id], filter_string="metrics.acc > 0.25 and params.i != '4'")
    assert [r.info.run_id for r in filtered] == [ids[3]]
    assert store.search_runs([], max_results=10) == ([], None)


def test_search_experiments_hydrates_tags(store: StoreDriver, unique: Callable[[str], str]) -> None:
    prefix = unique("sx")
    ids = [store.create_experiment(f"{prefix}-{i}", tags=[("i", str(i))]) for i in range(3)]
    store.delete_experiment(int(ids[0]))
    found, token = store.search_experiments(pb.ACTIVE_ONLY, 1, f"name LIKE '{prefix}-%'", ["name DESC"])
    assert [e.name for e in found] == [f"{prefix}-2"] and token
    assert [(t.key, t.value) for t in found[0].tags] == [("i", "2")]
    rest, token = store.search_experiments(pb.ACTIVE_ONLY, 5, f"name LIKE '{prefix}-%'", ["name DESC"], token)
    assert [e.name for e in rest] == [f"{prefix}-1"] and token is None
    everything, _ = store.search_experiments(pb.ALL, 10, f"name LIKE '{prefix}-%'")
    assert {e.experiment_id for e in everything} == set(ids)


def test_search_logged_models(store: StoreDriver, experiment_id: int, run_id: str) -> None:
    models = [
        store.create_logged_model(experiment_id, name="model", source_run_id=run_id, tags=[("k", str(i))])
        for i in range(3)
    ]
    store.delete_logged_model(models[0].info.model_id)
    found, token = store.search_logged_models([experiment_id], filter_string="name = 'model'", max_results=1)
    assert len(found) == 1 and token is not None
    more, token = store.search_logged_models(
        [experiment_id], filter_string="name = 'model'", max_results=1, page_token=token
    )
    assert token is None
    got = {m.info.model_id for m in [*found, *more]}
    assert got == {models[1].info.model_id, models[2].info.model_id}
    assert all(m.info.source_run_id == run_id and len(m.info.tags) == 1 for m in [*found, *more])
    assert store.search_logged_models([]) == ([], None)
