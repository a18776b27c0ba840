"""Metric writes of a run: log-batch (params, metrics, model metrics, tags in one transaction).

Statement count is independent of the batch size: a run check, the params (see
:mod:`.params_tags`), one points + latest-metrics write (see ``Queries.write_points``), one
multi-row statement for model metrics and one for tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError
from runstash_protos.metrics import count_points
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from runstash_metadata.store import schema as s
from runstash_metadata.store.checks import require_active_run
from runstash_metadata.store.params_tags import batch_conflict_error, write_params, write_tags
from runstash_metadata.store.points import MetricLike, Points
from runstash_metadata.store.queries import Queries
from runstash_metadata.store.values import PARAM_VALUE_MAX, TAG_VALUE_MAX


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One metric point as the store takes it (value may be NaN or +-inf; the store maps them)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None

    @classmethod
    def from_proto(cls, m: pb.Metric | pb.LogMetric) -> MetricPoint:
        return cls(
            key=m.key,
            value=m.value,
            timestamp=m.timestamp,
            step=m.step,
            model_id=m.model_id or None,
            dataset_name=m.dataset_name if m.HasField("dataset_name") else None,
            dataset_digest=m.dataset_digest if m.HasField("dataset_digest") else None,
        )


def log_batch(
    conn: Connection,
    q: Queries,
    run_id: str,
    *,
    metrics: Sequence[MetricLike] = (),
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
    dedupe: bool = False,
) -> None:
    """All or nothing. With ``dedupe`` false, may raise :class:`~.points.DuplicatePoints` (a point
    already stored): roll back and call again with ``dedupe``."""
    experiment_id = require_active_run(conn, run_id)
    if params:
        wanted = {k: v[:PARAM_VALUE_MAX] for k, v in params}
        conflicts = write_params(conn, q, [(run_id, k, v) for k, v in wanted.items()])
        if conflicts:
            raise batch_conflict_error(run_id, conflicts)
    if metrics:
        points = Points.of_run(run_id, metrics)
        q.write_points(conn, points, dedupe=dedupe)
        count_points(len(points))
        if points.has_model_ids:
            _write_model_metrics(conn, q, run_id, experiment_id=experiment_id, metrics=metrics, points=points)
    if tags:
        write_tags(conn, q, {(run_id, k): v[:TAG_VALUE_MAX] for k, v in tags})


@cache
def _model_metrics_insert(q: Queries) -> Insert:
    return q.insert_ignore(
        s.logged_model_metrics, ["model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"]
    )


def _write_model_metrics(
    conn: Connection,
    q: Queries,
    run_id: str,
    *,
    experiment_id: int,
    metrics: Sequence[MetricLike],
    points: Points,
) -> None:
    rows: list[dict[str, Any]] = [
        {
            "model_id": m.model_id,
            "metric_name": m.key,
            "metric_timestamp_ms": m.timestamp,
            "metric_step": m.step,
            "metric_value": points.values[i],
            "is_nan": points.nans[i],
            "experiment_id": experiment_id,
            "run_id": run_id,
            "dataset_uuid": None,
            "dataset_name": m.dataset_name or None,
            "dataset_digest": m.dataset_digest or None,
        }
        for i, m in enumerate(metrics)
        if m.model_id
    ]
    try:
        conn.execute(_model_metrics_insert(q), rows)
    except IntegrityError as exc:
        raise RunstashError(ErrorCode.BAD_REQUEST, str(exc.orig)) from exc
