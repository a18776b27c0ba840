"""Writing a batch of metric points for one run (log-batch), the ingest hot path.

PostgreSQL: the batch travels column-wise as array literals (``'{..}'`` strings, parsed by the
server's array input, instead of a 1000-row VALUES list or 5000 bound constants) in ONE statement:
the points insert (sorted in SQL, so concurrent batches lock rows in one order) and the
latest-metric upsert (``DISTINCT ON (key)`` picks each key's greatest (step, timestamp, value)).
SQLite / MySQL: one multi-row insert-ignore plus one multi-row latest upsert.

On PostgreSQL the points first go in with a plain INSERT: ``ON CONFLICT DO NOTHING`` costs a
speculative insertion per row (an extra index probe and WAL record; ~30% more server time for a
1000-row batch), and re-sent points are rare. A batch that does hit an existing point raises
:class:`DuplicatePoints`; the caller rolls the transaction back and writes it again with ``dedupe``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from runstash_protos.errors import ErrorCode, RunstashError
from sqlalchemy import Connection, TextClause, text
from sqlalchemy.exc import IntegrityError

from runstash_metadata.store import schema as s
from runstash_metadata.store.dialect import Dialect, pg_number_array, pg_text_array
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


_PG_BATCH = """
WITH u AS (
    SELECT * FROM unnest(
        CAST(:keys AS VARCHAR(250)[]), CAST(:values AS DOUBLE PRECISION[]), CAST(:nans AS BOOLEAN[]),
        CAST(:timestamps AS BIGINT[]), CAST(:steps AS BIGINT[])
    ) AS u(key, value, is_nan, "timestamp", step)
),
point AS (
    INSERT INTO metrics (run_uuid, key, value, is_nan, "timestamp", step)
    SELECT :rid, key, value, is_nan, "timestamp", step FROM u ORDER BY key, step, "timestamp", value
    {on_conflict}
)
INSERT INTO latest_metrics AS t (run_uuid, key, value, is_nan, "timestamp", step)
SELECT DISTINCT ON (key) :rid, key, value, is_nan, "timestamp", step FROM u
ORDER BY key, step DESC, "timestamp" DESC, value DESC
ON CONFLICT (run_uuid, key) DO UPDATE SET
    value = excluded.value, is_nan = excluded.is_nan, "timestamp" = excluded."timestamp", step = excluded.step
WHERE (t.step, t."timestamp", t.value) < (excluded.step, excluded."timestamp", excluded.value)
"""


class DuplicatePoints(Exception):
    """The optimistic insert met an existing point: retry the transaction with ``dedupe=True``."""


class MetricBatchWriter:
    """Writes one run's batch of metric points (and logged-model metrics) inside a transaction."""

    def __init__(self, dialect: Dialect) -> None:
        is_pg = dialect.name == "postgresql"
        self._pg_plain: TextClause | None = text(_PG_BATCH.format(on_conflict="")) if is_pg else None
        self._pg_dedupe = text(
            _PG_BATCH.format(
                on_conflict='ON CONFLICT (run_uuid, key, step, "timestamp", value, is_nan) DO NOTHING'
            )
        )
        self._insert_metrics = dialect.bulk_insert_ignore(
            s.metrics, ["run_uuid", "key", "step", "timestamp", "value", "is_nan"]
        )
        self._upsert_latest = dialect.bulk_upsert_if_greater(
            s.latest_metrics, ["run_uuid", "key"], ["step", "timestamp", "value"], ["is_nan"]
        )
        self._i_model_metrics = dialect.insert_ignore(
            s.logged_model_metrics,
            ["model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"],
        )

    def write(
        self,
        conn: Connection,
        run_id: str,
        experiment_id: int,
        metrics: Sequence[MetricLike],
        *,
        dedupe: bool = False,
    ) -> None:
        cols = _columns(metrics)
        if self._pg_plain is not None:
            statement = self._pg_dedupe if dedupe else self._pg_plain
            try:
                self._execute_pg(conn, statement, run_id, cols)
            except IntegrityError as exc:
                if dedupe:
                    raise
                raise DuplicatePoints from exc
        else:
            self._write_rows(conn, run_id, cols)
        if cols.has_model_ids:
            self._write_model_metrics(conn, run_id, experiment_id, metrics, cols)

    @staticmethod
    def _execute_pg(conn: Connection, statement: TextClause, run_id: str, cols: _Columns) -> None:
        conn.execute(
            statement,
            {
                "rid": run_id,
                "keys": pg_text_array(cols.keys),
                "values": pg_number_array(cols.values),
                "nans": "{" + ",".join(["t" if n else "f" for n in cols.nans]) + "}",
                "timestamps": pg_number_array(cols.timestamps),
                "steps": pg_number_array(cols.steps),
            },
        )

    def _write_rows(self, conn: Connection, run_id: str, cols: _Columns) -> None:
        unique = dict.fromkeys(
            zip(cols.keys, cols.steps, cols.timestamps, cols.values, cols.nans, strict=True)
        )
        latest: dict[str, tuple[int, int, float, bool]] = {}
        for key, step, timestamp, value, is_nan in unique:
            current = latest.get(key)
            if current is None or (step, timestamp, value) > current[:3]:
                latest[key] = (step, timestamp, value, is_nan)
        # Sorted rows take row locks in one global order, so concurrent batches cannot deadlock.
        self._insert_metrics(conn, [(run_id, k, v, nan, ts, st) for (k, st, ts, v, nan) in sorted(unique)])
        self._upsert_latest(
            conn, [(run_id, k, v, nan, ts, st) for k, (st, ts, v, nan) in sorted(latest.items())]
        )

    def _write_model_metrics(
        self, conn: Connection, run_id: str, experiment_id: int, metrics: Sequence[MetricLike], cols: _Columns
    ) -> None:
        rows: list[dict[str, Any]] = [
            {
                "model_id": m.model_id,
                "metric_name": m.key,
                "metric_timestamp_ms": m.timestamp,
                "metric_step": m.step,
                "metric_value": cols.values[i],
                "is_nan": cols.nans[i],
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
            conn.execute(self._i_model_metrics, rows)
        except IntegrityError as exc:
            raise RunstashError(ErrorCode.BAD_REQUEST, str(exc.orig)) from exc


class _Columns(NamedTuple):
    """A batch column-wise, values as stored (NaN -> 0 + flag, +-inf clamped)."""

    keys: list[str]
    values: list[float]
    nans: list[bool]
    timestamps: list[int]
    steps: list[int]
    has_model_ids: bool


def _columns(metrics: Sequence[MetricLike]) -> _Columns:
    points = [(m.key, m.value, m.timestamp, m.step, m.model_id) for m in metrics]
    keys, values, timestamps, steps, model_ids = (list(col) for col in zip(*points, strict=True))
    nans = [False] * len(values)
    # One sum instead of a check per value: it is finite only when every value is.
    if not -MAX_DOUBLE <= sum(values) <= MAX_DOUBLE:
        stored = [stored_value(v) for v in values]
        values = [v for v, _ in stored]
        nans = [nan for _, nan in stored]
    return _Columns(keys, values, nans, timestamps, steps, any(model_ids))
