"""Metric points as the write paths hand them to the query objects: column-wise, values as stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from runstash_metadata.store.values import MAX_DOUBLE, stored_value


class MetricLike(Protocol):
    """What the store reads from a metric point: a MetricPoint or the contract's Metric message
    (batches pass the request's messages straight through, no per-point copy)."""

    @property
    def key(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def step(self) -> int: ...
    @property
    def model_id(self) -> str | None: ...
    @property
    def dataset_name(self) -> str | None: ...
    @property
    def dataset_digest(self) -> str | None: ...


class DuplicatePoints(Exception):
    """An optimistic insert met an existing point: retry the transaction with ``dedupe=True``."""


@dataclass(frozen=True, slots=True)
class Points:
    """Metric points column-wise. ``runs`` holds one run id (every point is of that run) or one
    run id per point; values are as stored (NaN -> 0 + flag, +-inf clamped)."""

    runs: list[str]
    keys: list[str]
    values: list[float]
    nans: list[bool]
    timestamps: list[int]
    steps: list[int]
    has_model_ids: bool = False  # some point is also a logged model's metric

    @classmethod
    def of_run(cls, run_id: str, metrics: Sequence[MetricLike]) -> Points:
        # One pass over the messages (attribute reads dominate), then column-wise.
        rows = [(m.key, m.value, m.timestamp, m.step, m.model_id) for m in metrics]
        keys, values, timestamps, steps, model_ids = (list(col) for col in zip(*rows, strict=True))
        values, nans = _stored_values(values)
        return cls([run_id], keys, values, nans, timestamps, steps, has_model_ids=any(model_ids))

    @classmethod
    def of_columns(
        cls, run_id: str, keys: list[str], values: list[float], timestamps: list[int], steps: list[int]
    ) -> Points:
        """From equally long columns of one run's plain points (the ingest stream's columns)."""
        stored, nans = _stored_values(values)
        return cls([run_id], keys, stored, nans, timestamps, steps)

    @classmethod
    def of_points(cls, points: Sequence[tuple[str, str, float, int, int]]) -> Points:
        """From (run id, key, raw value, timestamp, step) tuples of any runs."""
        stored = [stored_value(value) for _, _, value, _, _ in points]
        return cls(
            [p[0] for p in points],
            [p[1] for p in points],
            [v for v, _ in stored],
            [nan for _, nan in stored],
            [p[3] for p in points],
            [p[4] for p in points],
        )

    def __len__(self) -> int:
        return len(self.keys)

    def run_of_each(self) -> list[str]:
        """One run id per point."""
        return self.runs * len(self.keys) if len(self.runs) == 1 else self.runs

    def rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(metrics rows, latest_metrics rows) as (run_uuid, key, value, is_nan, timestamp, step),
        points unique, one latest row per (run, key) by the (step, timestamp, value) rule; both
        sorted so concurrent transactions take row locks in one global order (no deadlocks)."""
        unique = dict.fromkeys(
            zip(
                self.run_of_each(),
                self.keys,
                self.steps,
                self.timestamps,
                self.values,
                self.nans,
                strict=True,
            )
        )
        latest: dict[tuple[str, str], tuple[int, int, float, bool]] = {}
        for run, key, step, timestamp, value, is_nan in unique:
            current = latest.get((run, key))
            if current is None or (step, timestamp, value) > current[:3]:
                latest[(run, key)] = (step, timestamp, value, is_nan)
        points = [(r, k, v, nan, ts, st) for (r, k, st, ts, v, nan) in sorted(unique)]
        latest_rows = [(r, k, v, nan, ts, st) for (r, k), (st, ts, v, nan) in sorted(latest.items())]
        return points, latest_rows


def _stored_values(values: list[float]) -> tuple[list[float], list[bool]]:
    """The values as stored (NaN -> 0 + flag, +-inf clamped) and the NaN flags."""
    # One sum instead of a check per value: it is finite only when every value is.
    if -MAX_DOUBLE <= sum(values) <= MAX_DOUBLE:
        return values, [False] * len(values)
    stored = [stored_value(v) for v in values]
    return [v for v, _ in stored], [nan for _, nan in stored]
