"""load_runs: a page of run ids into complete Run messages, in the order asked, children in bulk."""

from __future__ import annotations

import math

from runstash_metadata.store.hydration import load_runs
from runstash_metadata.store.metrics import MetricPoint
from runstash_protos import metadata_pb2 as pb

from tests.metadata.store_driver import StoreDriver


def _dataset(name: str) -> pb.DatasetInput:
    return pb.DatasetInput(
        dataset=pb.Dataset(name=name, digest="d1", source_type="local", source="s"),
        tags=[pb.InputTag(key="mlflow.data.context", value="train")],
    )


def test_runs_come_back_whole_and_in_order(store: StoreDriver, experiment_id: int) -> None:
    a = store.create_run(experiment_id, run_name="a", tags=[("team", "x")]).info.run_id
    b = store.create_run(experiment_id, run_name="b").info.run_id
    store.log_batch(
        a,
        metrics=[
            MetricPoint("loss", 1.0, 1, 0),
            MetricPoint("loss", math.nan, 2, 1),
            MetricPoint("acc", 0.5, 1),
        ],
        params=[("lr", "0.1"), ("bs", "32")],
    )
    store.log_inputs(a, datasets=[_dataset("train")], models=["m-1"])
    store.log_outputs(a, [("m-2", 3)])
    with store.db.reader() as conn:
        runs = load_runs(conn, store.q, [b, "0" * 32, a], model_inputs=True)
    assert [r.info.run_name for r in runs] == ["b", "a"]  # unknown ids skipped
    run = runs[1]
    assert [(p.key, p.value) for p in run.data.params] == [("bs", "32"), ("lr", "0.1")]
    assert [t.key for t in run.data.tags] == ["mlflow.runName", "team"]
    metrics = {m.key: m for m in run.data.metrics}
    assert metrics["acc"].value == 0.5 and metrics["loss"].step == 1 and math.isnan(metrics["loss"].value)
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "train"
    assert [(t.key, t.value) for t in dataset_input.tags] == [("mlflow.data.context", "train")]
    assert [m.model_id for m in run.inputs.model_inputs] == ["m-1"]
    assert [(o.model_id, o.step) for o in run.outputs.model_outputs] == [("m-2", 3)]
    assert list(runs[0].data.params) == [] and runs[0].HasField("inputs")


def test_fills_the_callers_container_and_repeats_ids(store: StoreDriver, experiment_id: int) -> None:
    a = store.create_run(experiment_id, run_name="a").info.run_id
    b = store.create_run(experiment_id, run_name="b").info.run_id
    store.log_inputs(a, models=["m-1"])
    response = pb.SearchRuns.Response()
    with store.db.reader() as conn:
        returned = load_runs(conn, store.q, [a, b, a], model_inputs=False, out=response.runs)
    assert returned is response.runs
    assert [r.info.run_name for r in response.runs] == ["a", "b", "a"]
    assert list(response.runs[0].inputs.model_inputs) == []  # search pages leave model inputs out


def test_many_runs_in_one_call(store: StoreDriver, experiment_id: int) -> None:
    # More ids than one IN list holds on the databases that need chunks (2000 per statement).
    ids = [store.create_run(experiment_id).info.run_id for _ in range(5)]
    asked = [*ids, *(f"{i:032x}" for i in range(2100))]
    with store.db.reader() as conn:
        runs = load_runs(conn, store.q, asked, model_inputs=False)
    assert [r.info.run_id for r in runs] == ids
