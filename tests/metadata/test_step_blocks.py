"""get-history-bulk-interval through the step blocks (PostgreSQL) equals MLflow's NTILE sample of
the whole ordered history, whatever the write order, the range or the step layout; runs with a
step held by several points go through the scanning path and still agree."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from runstash_metadata.store.metrics import MetricPoint
from runstash_metadata.store.sampled_history import sampled_positions
from runstash_metadata.store.step_blocks import plan_sample

from tests.metadata.store_driver import StoreDriver


def _expected(
    points: Sequence[MetricPoint], m: int, lo: int | None = None, hi: int | None = None
) -> list[tuple[int, int, float]]:
    inside = [p for p in points if lo is None or hi is None or lo <= p.step <= hi]
    ordered = sorted({(p.step, p.timestamp, p.value) for p in inside})
    return [ordered[i] for i in sampled_positions(len(ordered), m)]


def _got(store: StoreDriver, run_id: str, key: str, m: int, *bounds: int) -> list[tuple[int, int, float]]:
    lo, hi = bounds or (None, None)
    got = store.get_metric_history_bulk_interval([run_id], key, max_results=m, start_step=lo, end_step=hi)
    return [(p.step, p.timestamp, p.value) for p in got]


def _log_shuffled(store: StoreDriver, run_id: str, points: list[MetricPoint], batch: int = 700) -> None:
    batches = [points[i : i + batch] for i in range(0, len(points), batch)]
    random.Random(7).shuffle(batches)
    for chunk in batches:
        store.log_batch(run_id, metrics=chunk)


def _scanned(store: StoreDriver, run_id: str, key: str) -> bool | None:
    """Whether the blocks leave the run to the scanning path (None: no blocks on this database)."""
    with store.db.reader() as conn:
        plan = plan_sample(conn, store.db.q, [run_id], key, bounds=None, positions=lambda n: [n - 1])
    return None if plan is None else run_id in plan.scan


@pytest.mark.parametrize(
    "steps",
    [
        list(range(3000)),  # dense over three blocks
        list(range(-1500, 500)),  # negative steps
        list(range(5, 10_000, 7)),  # sparse: no block is full
        [0, 1023, 1024, 2047, 2048, 4095, 10**12],  # block edges, a far step
    ],
    ids=["dense", "negative", "sparse", "edges"],
)
def test_sample_equals_the_definition(store: StoreDriver, run_id: str, steps: list[int]) -> None:
    points = [MetricPoint("b", float(s % 13), 1000 + s, s) for s in steps]
    _log_shuffled(store, run_id, points)
    assert _scanned(store, run_id, "b") in (False, None)
    for m in (1, 2, 10, 320, len(steps) - 1, len(steps), 5000):
        assert _got(store, run_id, "b", m) == _expected(points, m), m
    first, last = steps[0], steps[-1]
    for lo, hi in [
        (first + 5, first + 2050),
        (1023, 1024),
        (1024, 2047),
        (last + 1, last + 10),
        (first, last),
    ]:
        for m in (1, 7, 320):
            assert _got(store, run_id, "b", m, lo, hi) == _expected(points, m, lo, hi), (lo, hi, m)


def test_resent_and_single_points_count_once(store: StoreDriver, run_id: str) -> None:
    points = [MetricPoint("r", float(s), 50 + s, s) for s in range(1500)]
    store.log_batch(run_id, metrics=points[:1000])
    store.log_batch(run_id, metrics=points[:1000])  # re-sent: stored once, counted once
    for p in points[1000:1010]:
        store.log_metric(run_id, p)  # the single-point (grouped) write path
    store.log_batch(run_id, metrics=points[1010:])
    assert _scanned(store, run_id, "r") in (False, None)
    for m in (3, 320, 1499, 1500):
        assert _got(store, run_id, "r", m) == _expected(points, m)


def test_a_step_with_two_points_takes_the_scanning_path(store: StoreDriver, experiment_id: int) -> None:
    dense = store.create_run(experiment_id).info.run_id
    doubled = store.create_run(experiment_id).info.run_id
    points = [MetricPoint("d", float(s), 10 + s, s) for s in range(2500)]
    extra = MetricPoint("d", -1.0, 5, 1500)  # a second point at step 1500, ordered before it
    store.log_batch(dense, metrics=points)
    store.log_batch(doubled, metrics=points)
    store.log_batch(doubled, metrics=[extra])
    assert _scanned(store, dense, "d") in (False, None)
    assert _scanned(store, doubled, "d") in (True, None)
    for m in (10, 320):
        got = store.get_metric_history_bulk_interval([doubled, dense], "d", max_results=m)
        assert [(p.step, p.timestamp, p.value) for p in got if p.run_id == dense] == _expected(points, m)
        with_extra = [*points, extra]
        assert [(p.step, p.timestamp, p.value) for p in got if p.run_id == doubled] == _expected(
            with_extra, m
        )
    # A range away from the doubled step is still exact.
    assert _got(store, doubled, "d", 9, 0, 1000) == _expected(points, 9, 0, 1000)


def _history(store: StoreDriver, run_id: str, key: str, page: int | None) -> list[tuple[int, int, float]]:
    got, token = store.get_metric_history(run_id, key, page)
    points = [(p.timestamp, p.step, p.value) for p in got]
    while token:
        got, token = store.get_metric_history(run_id, key, page, token)
        assert page is not None and len(got) <= page
        points += [(p.timestamp, p.step, p.value) for p in got]
    return points


def _block_by_block(store: StoreDriver, run_id: str, key: str) -> bool:
    with store.db.reader() as conn:
        return store.db.q.history_blocks(conn, run_id, key) is not None


@pytest.mark.parametrize(
    ("shape", "block_by_block"),
    [
        ("monotone", True),  # timestamps grow with steps, written in shuffled batches
        ("late point", False),  # an older timestamp than the blocks before its own
        ("late in its block", True),  # out of order only within its own block
        ("two per step", True),  # several points per step
    ],
)
def test_history_pages_in_timestamp_order(
    store: StoreDriver, run_id: str, shape: str, block_by_block: bool
) -> None:
    points = [MetricPoint("h", float(s % 5), 10_000 + 2 * s, s) for s in range(2600)]
    if shape == "late point":
        points.append(MetricPoint("h", 9.0, 3, 2000))
    if shape == "late in its block":
        points.append(MetricPoint("h", 9.0, 10_000 + 2 * 1030, 2047))
    if shape == "two per step":
        points += [MetricPoint("h", -1.0, 10_001 + 2 * s, s) for s in range(0, 2600, 3)]
    _log_shuffled(store, run_id, points, batch=300)
    if store.db.q.name == "postgresql":
        assert _block_by_block(store, run_id, "h") is block_by_block
    expected = sorted((p.timestamp, p.step, p.value) for p in points)
    assert _history(store, run_id, "h", None) == expected
    for page in (1000, 777, len(points), len(points) + 1):
        assert _history(store, run_id, "h", page) == expected


def test_page_boundaries_inside_reordered_blocks(store: StoreDriver, run_id: str) -> None:
    # Within each block the timestamps run backwards: pages must follow timestamps, not steps.
    points = [
        MetricPoint("o", float(s % 3), 100 + 2048 * (s >> 10) + (1023 - (s & 1023)), s) for s in range(3000)
    ]
    points += [
        MetricPoint("o", 7.0, 100 + 2048 * (s >> 10) + (1023 - (s & 1023)), s) for s in range(0, 3000, 5)
    ]
    _log_shuffled(store, run_id, points, batch=256)
    if store.db.q.name == "postgresql":
        assert _block_by_block(store, run_id, "o")
    expected = sorted((p.timestamp, p.step, p.value) for p in points)
    for page in (1, 100, 1023, 1024, 1500):
        assert _history(store, run_id, "o", page) == expected, page
