"""Group commit of single writes: concurrent log-metric / set-tag / log-param calls share one
transaction, yet every caller sees only its own outcome and every point is stored exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from runstash_metadata.store.group_commit import GroupCommit, Outcome
from runstash_metadata.store.metrics import MetricPoint
from runstash_protos.errors import ErrorCode, RunstashError

from tests.metadata.store_driver import StoreDriver

THREADS = 16


def _run_all(calls: Sequence[Callable[[], None]]) -> list[BaseException | None]:
    """Run ``calls`` from THREADS threads started together; each call's exception (or None)."""
    barrier = threading.Barrier(THREADS)

    def worker(part: Sequence[Callable[[], None]]) -> list[BaseException | None]:
        barrier.wait()
        outcomes: list[BaseException | None] = []
        for call in part:
            try:
                call()
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    parts = [calls[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, parts))
    ordered: list[BaseException | None] = [None] * len(calls)
    for i, outcomes in enumerate(results):
        for j, outcome in enumerate(outcomes):
            ordered[i + j * THREADS] = outcome
    return ordered


def test_concurrent_log_metric_every_point_once_errors_isolated(
    store: StoreDriver, experiment_id: int
) -> None:
    runs = [store.create_run(experiment_id, start_time=1).info.run_id for _ in range(4)]
    deleted = store.create_run(experiment_id, start_time=1).info.run_id
    store.delete_run(deleted)
    unknown = "f" * 32
    per_run = 200
    calls: list[Callable[[], None]] = []
    expected: list[str] = []
    for step in range(per_run):
        for r in runs:
            calls.append(partial(store.log_metric, r, MetricPoint("loss", step / 7, 1000 + step, step)))
            expected.append("ok")
        if step % 10 == 0:
            calls.append(lambda: store.log_metric(deleted, MetricPoint("loss", 1.0, 1, 0)))
            expected.append("deleted")
            calls.append(lambda: store.log_metric(unknown, MetricPoint("loss", 1.0, 1, 0)))
            expected.append("unknown")
    outcomes = _run_all(calls)

    for kind, outcome in zip(expected, outcomes, strict=True):
        if kind == "ok":
            assert outcome is None
        else:
            assert isinstance(outcome, RunstashError)
            code = (
                ErrorCode.INVALID_PARAMETER_VALUE if kind == "deleted" else ErrorCode.RESOURCE_DOES_NOT_EXIST
            )
            assert outcome.code == code
            run = deleted if kind == "deleted" else unknown
            assert run in outcome.message
    for r in runs:
        history, _ = store.get_metric_history(r, "loss")
        steps = Counter(m.step for m in history)
        assert sorted(steps) == list(range(per_run)) and set(steps.values()) == {1}
        assert all(m.value == m.step / 7 and m.timestamp == 1000 + m.step for m in history)
        latest = {m.key: m for m in store.get_run(r).data.metrics}["loss"]
        assert (latest.step, latest.timestamp) == (per_run - 1, 1000 + per_run - 1)
    store.restore_run(deleted)
    assert store.get_metric_history(deleted, "loss")[0] == []


def test_concurrent_tags_and_params(store: StoreDriver, experiment_id: int) -> None:
    run_id = store.create_run(experiment_id, start_time=1).info.run_id
    calls: list[Callable[[], None]] = []
    for i in range(THREADS * 4):
        calls.append(partial(store.set_tag, run_id, f"tag{i % 8}", f"v{i}"))
        calls.append(partial(store.log_param, run_id, f"p{i}", str(i)))
        # Same key, different values: exactly one value wins, the others are rejected.
        calls.append(partial(store.log_param, run_id, "contested", str(i)))
        calls.append(partial(store.log_metric, run_id, MetricPoint("m", float(i), i, i)))
    outcomes = _run_all(calls)

    contested = [o for c, o in zip(range(len(calls)), outcomes, strict=True) if c % 4 == 2]
    assert sum(o is None for o in contested) == 1
    rejected = [o for o in contested if o is not None]
    assert all(isinstance(o, RunstashError) and o.code == ErrorCode.INVALID_PARAMETER_VALUE for o in rejected)
    assert all(o is None for c, o in enumerate(outcomes) if c % 4 != 2)
    data = store.get_run(run_id).data
    params = {p.key: p.value for p in data.params}
    assert {k: v for k, v in params.items() if k != "contested"} == {
        f"p{i}": str(i) for i in range(THREADS * 4)
    }
    winner = int(params["contested"])
    assert contested[winner] is None
    tags = {t.key: t.value for t in data.tags}
    for k in range(8):  # each tag holds one of the values written to it
        assert int(tags[f"tag{k}"][1:]) % 8 == k
    assert len(store.get_metric_history(run_id, "m")[0]) == THREADS * 4


# ---------------------------------------------------------------- the primitive, without a database


def test_followers_are_grouped_and_see_their_own_results() -> None:
    groups: list[list[int]] = []
    gate = threading.Event()

    def write_group(items: Sequence[int]) -> list[Outcome]:
        groups.append(list(items))
        if len(groups) == 1:
            gate.wait(5)  # hold the first group open so the others queue up behind it
        return [ValueError(i) if i % 5 == 0 else None for i in items]

    gc: GroupCommit[int] = GroupCommit(write_group)
    results: dict[int, object] = {}

    def call(i: int) -> None:
        try:
            gc.submit(i)
            results[i] = "ok"
        except ValueError as exc:
            results[i] = exc.args[0]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(1, 21)]
    threads[0].start()
    deadline = time.monotonic() + 5
    while not groups and time.monotonic() < deadline:
        time.sleep(0.001)
    for t in threads[1:]:
        t.start()
    deadline = time.monotonic() + 5
    while len(gc._queue) < 19 and time.monotonic() < deadline:
        time.sleep(0.001)
    gate.set()
    for t in threads:
        t.join(5)
    assert results == {i: (i if i % 5 == 0 else "ok") for i in range(1, 21)}
    assert groups[0] == [1] and len(groups) == 2 and sorted(groups[1]) == list(range(2, 21))


def test_failed_group_is_retried_one_by_one() -> None:
    calls: list[list[str]] = []

    def write_group(items: Sequence[str]) -> list[Outcome]:
        calls.append(list(items))
        if "poison" in items:
            raise RuntimeError("constraint violated")
        return [None] * len(items)

    gc: GroupCommit[str] = GroupCommit(write_group)
    gate = threading.Barrier(3)
    outcomes: dict[str, str] = {}

    def call(item: str) -> None:
        gate.wait()
        try:
            gc.submit(item)
            outcomes[item] = "ok"
        except RuntimeError as exc:
            outcomes[item] = str(exc)

    # Force one group holding all three items: submit through a held leader.
    hold = threading.Event()
    original = gc._write_group

    def held(items: Sequence[str]) -> list[Outcome]:
        if items == ["first"]:
            hold.wait(5)
        return original(items)

    gc._write_group = held
    leader = threading.Thread(target=lambda: gc.submit("first"))
    leader.start()
    deadline = time.monotonic() + 5
    while not gc._writing and time.monotonic() < deadline:
        time.sleep(0.001)
    threads = [threading.Thread(target=call, args=(x,)) for x in ("a", "poison", "b")]
    for t in threads:
        t.start()
    while len(gc._queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    hold.set()
    leader.join(5)
    for t in threads:
        t.join(5)
    assert outcomes == {"a": "ok", "b": "ok", "poison": "constraint violated"}
    grouped = [c for c in calls if len(c) == 3]
    assert len(grouped) == 1 and sorted(grouped[0]) == ["a", "b", "poison"]
    # each item then written alone, exactly once
    assert sorted(c[0] for c in calls if len(c) == 1) == ["a", "b", "first", "poison"]


def test_interrupted_group_releases_its_caller() -> None:
    def write_group(items: Sequence[int]) -> list[Outcome]:
        raise KeyboardInterrupt

    gc: GroupCommit[int] = GroupCommit(write_group)
    with pytest.raises(KeyboardInterrupt):
        gc.submit(1)
    assert not gc._writing and gc._queue == []


def test_groups_in_flight_are_bounded() -> None:
    """With two slots, two groups are written at once and the rest wait for a free slot."""
    started = threading.Semaphore(0)
    gate = threading.Event()
    active, peak = [0], [0]
    lock = threading.Lock()

    def write_group(items: Sequence[int]) -> list[Outcome]:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        started.release()
        gate.wait(5)
        with lock:
            active[0] -= 1
        return [None] * len(items)

    gc: GroupCommit[int] = GroupCommit(write_group, in_flight=2)
    threads = [threading.Thread(target=gc.submit, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    assert started.acquire(timeout=5) and started.acquire(timeout=5)  # two leaders writing
    deadline = time.monotonic() + 5
    while len(gc._queue) < 8 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert gc._writing == 2 and len(gc._queue) == 8  # the others wait, not written alone
    gate.set()
    for t in threads:
        t.join(5)
    assert peak[0] == 2 and gc._writing == 0 and gc._queue == []
