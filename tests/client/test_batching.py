"""The background batcher: every point arrives, in order, in batches within the server's limit."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from runstash.batching import MetricBatcher
from runstash_protos import metadata_pb2 as pb


class Recorder:
    """A send function that records batches (and can be told to fail)."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, float, int]]] = []
        self.failures_left = 0
        self.lock = threading.Lock()

    def __call__(self, points: Sequence[pb.Metric]) -> None:
        with self.lock:
            if self.failures_left:
                self.failures_left -= 1
                raise ConnectionError("server away")
            self.batches.append([(p.key, p.value, p.step) for p in points])


def test_every_point_arrives_in_order_and_batches_respect_the_limit() -> None:
    sent = Recorder()
    with MetricBatcher(sent, max_points=100, max_delay=5.0) as batcher:
        for step in range(1050):
            batcher.log("loss", step / 10, step=step)
    flat = [point for batch in sent.batches for point in batch]
    assert [p[2] for p in flat] == list(range(1050))
    assert all(len(batch) <= 100 for batch in sent.batches)
    assert len(sent.batches) >= 11


def test_flush_sends_a_partial_batch_without_waiting_for_the_delay() -> None:
    sent = Recorder()
    batcher = MetricBatcher(sent, max_points=1000, max_delay=60.0)
    batcher.log("acc", 0.5)
    batcher.flush()  # would hang for a minute if flush did not wake the sender
    assert sent.batches == [[("acc", 0.5, 0)]]
    batcher.close()


def test_a_failed_send_is_raised_and_its_points_are_retried_not_lost() -> None:
    sent = Recorder()
    sent.failures_left = 1
    batcher = MetricBatcher(sent, max_points=10, max_delay=0.01)
    for step in range(5):
        batcher.log("m", 1.0, step=step)
    with pytest.raises(ConnectionError):
        batcher.flush()
    batcher.flush()  # the retry succeeds
    batcher.close()
    assert [p[2] for batch in sent.batches for p in batch] == [0, 1, 2, 3, 4]


def test_limits_and_closed_state() -> None:
    with pytest.raises(ValueError, match="between 1 and 1000"):
        MetricBatcher(Recorder(), max_points=1001)
    batcher = MetricBatcher(Recorder())
    batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.log("m", 1.0)
