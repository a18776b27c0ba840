"""The UI's chart data (GetChartHistories): stride reads where the database keeps the chart stride
indexes (PostgreSQL, SQLite), MLflow's exact sample where the strides do not suit the run or the
database has none (MySQL)."""

from __future__ import annotations

import pytest
from runstash_metadata import validation as v
from runstash_metadata.store import chart_history
from runstash_metadata.store.metrics import MetricPoint
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError

from tests.metadata.store_driver import StoreDriver


def _series(
    store: StoreDriver, run_ids: list[str], key: str, budget: int, *bounds: int
) -> dict[str, list[int]]:
    lo, hi = bounds or (None, None)
    with store.db.reader() as conn:
        found = chart_history.key_series(conn, store.db.q, run_ids, key, budget, lo, hi)
    return {run_id: [p[0] for p in points] for run_id, points in found.items()}


def _exact(store: StoreDriver, run_id: str, key: str, budget: int, *bounds: int) -> list[int]:
    lo, hi = bounds or (None, None)
    got = store.get_metric_history_bulk_interval([run_id], key, budget, start_step=lo, end_step=hi)
    return [p.step for p in got]


def test_pick_stride() -> None:
    strides = (64, 256, 1024)
    assert chart_history.pick_stride(100_000, 500, strides) == 256  # 390 points
    assert chart_history.pick_stride(1_000_000, 500, strides) == 1024  # the largest kept
    assert chart_history.pick_stride(15_999, 500, strides) is None  # short: the exact sample
    assert chart_history.pick_stride(100_000, 500, ()) is None  # no strides on this database


def test_long_dense_runs_share_stride_steps(store: StoreDriver, experiment_id: int) -> None:
    runs = [store.create_run(experiment_id).info.run_id for _ in range(2)]
    for i, run_id in enumerate(runs):
        store.log_batch(run_id, metrics=[MetricPoint("c", float(s), 100 + s, s) for s in range(10_000 - i)])
    got = _series(store, [runs[1], runs[0], runs[1]], "c", 100)
    assert list(got) == [runs[1], runs[0]]  # request order, once per run
    if store.db.q.chart_strides:
        assert got[runs[0]] == [*range(0, 10_000, 64), 9999]  # the stride's steps, then the last
        assert got[runs[1]] == [*range(0, 9999, 64), 9998]
        windowed = _series(store, [runs[0]], "c", 50, 5_000, 9_000)[runs[0]]
        assert windowed == [5_000, *range(5_056, 9_001, 64), 9_000]
    else:
        assert got[runs[0]] == _exact(store, runs[0], "c", 100)


def test_values_and_nan(store: StoreDriver, run_id: str) -> None:
    points = [MetricPoint("n", float("nan") if s == 64 else s / 2, 7 + s, s) for s in range(4_000)]
    store.log_batch(run_id, metrics=points)
    with store.db.reader() as conn:
        got = chart_history.key_series(conn, store.db.q, [run_id], "n", 50)[run_id]
    columns = chart_history.columns(got)
    assert columns["steps"][0] == 0 and columns["timestamps"][0] == 7 and columns["values"][0] == 0.0
    nan_at = columns["steps"].index(64) if 64 in columns["steps"] else None
    if nan_at is not None:
        assert columns["values"][nan_at] != columns["values"][nan_at]  # NaN
    assert columns["steps"][-1] == 3_999 and columns["values"][-1] == 3_999 / 2


@pytest.mark.parametrize(
    "steps",
    [
        list(range(1, 40_000, 2)),  # odd steps only: the strides hold none of them
        [s for s in range(0, 40_000, 64) for _ in range(5)],  # five points per step: too many rows
        list(range(500)),  # short: cheaper exact
    ],
    ids=["sparse", "crowded", "short"],
)
def test_unsuited_runs_take_the_exact_sample(store: StoreDriver, run_id: str, steps: list[int]) -> None:
    store.log_batch(run_id, metrics=[MetricPoint("u", float(i), 10 + i, s) for i, s in enumerate(steps)])
    assert _series(store, [run_id], "u", 40)[run_id] == _exact(store, run_id, "u", 40)


def test_missing_runs_and_keys_are_left_out(store: StoreDriver, run_id: str) -> None:
    store.log_batch(run_id, metrics=[MetricPoint("k", 1.0, 1, 0)])
    assert _series(store, [run_id, "0" * 32], "k", 10) == {run_id: [0]}
    assert _series(store, [run_id], "other", 10) == {}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"metric_keys": ["a"]}, "run_ids"),
        ({"run_ids": ["r"]}, "metric_keys"),
        ({"run_ids": ["r"] * 101, "metric_keys": ["a"]}, "at most 100 run_ids"),
        ({"run_ids": ["r"], "metric_keys": [str(i) for i in range(51)]}, "at most 50 metric_keys"),
        ({"run_ids": ["r"], "metric_keys": ["a"], "max_results": 0}, "between 1 and 2500"),
        ({"run_ids": ["r"], "metric_keys": ["a"], "start_step": 1}, "both must be specified"),
        ({"run_ids": ["r"], "metric_keys": ["a"], "start_step": 2, "end_step": 1}, "greater than"),
    ],
)
def test_bad_requests(fields: dict[str, object], message: str) -> None:
    with pytest.raises(RunstashError) as caught:
        v.check_get_chart_histories(pb.GetChartHistories(**fields))  # type: ignore[arg-type]
    assert caught.value.code.name == "INVALID_PARAMETER_VALUE"
    assert message in caught.value.message
