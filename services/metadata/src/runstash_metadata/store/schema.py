"""The tracking schema as SQLAlchemy Core tables (the names are a contract with search/).

Conventions the rest of the service relies on:

* NaN metric values are stored as ``value = 0, is_nan = true`` (MySQL has no NaN);
  +-inf arrives already clamped to +-1.7976931348623157e308.
* ``latest_metrics`` holds one row per (run, key): the point with the greatest
  (step, timestamp, value) tuple, maintained on write.
* Hot write tables (``metrics``, ``latest_metrics``) carry no foreign key: the store checks the run
  inside the same transaction, and a per-row FK check would cost throughput on PostgreSQL.
* What a database family adds (MySQL's ``utf8mb4_bin`` tables, the value indexes each database can
  hold, PostgreSQL's statistics) is in :mod:`runstash_metadata.store.queries.ddl`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ACTIVE = "active"
DELETED = "deleted"

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2048)),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
    UniqueConstraint("name"),
    Index("ix_experiments_stage_ctime", "lifecycle_stage", "creation_time"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("experiment_id", "key"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("name", String(250)),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("user_id", String(256)),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger, nullable=True),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("artifact_uri", String(2048)),
    Column("deleted_time", BigInteger, nullable=True),
    # Search: WHERE experiment_id IN (...) AND lifecycle_stage = ? ORDER BY start_time DESC, run_uuid.
    Index("ix_runs_exp_stage_start", "experiment_id", "lifecycle_stage", "start_time", "run_uuid"),
)

params = Table(
    "params",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", String(6000), nullable=False),
    PrimaryKeyConstraint("run_uuid", "key"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", String(8000)),
    PrimaryKeyConstraint("run_uuid", "key"),
)

metrics = Table(
    "metrics",
    metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False, default=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False, default=0),
    # Identical points are one row (insert-ignore dedups re-sent batches); the key order also
    # serves history reads: (run, key) then (step, timestamp, value) for sampling.
    PrimaryKeyConstraint("run_uuid", "key", "step", "timestamp", "value", "is_nan"),
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False, default=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_uuid", "key"),
    # Search: metrics.<k> <op> <v> is a range scan over (key, value).
    Index("ix_latest_metrics_key_value", "key", "value", "run_uuid"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(36), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("dataset_source_type", String(36), nullable=False),
    Column("dataset_source", Text, nullable=False),
    Column("dataset_schema", Text),
    Column("dataset_profile", Text),
    UniqueConstraint("experiment_id", "name", "digest"),
)

INPUT_SOURCE_DATASET = "DATASET"
INPUT_SOURCE_MODEL = "RUN_INPUT"
INPUT_DESTINATION_RUN = "RUN"

inputs = Table(
    "inputs",
    metadata,
    Column("input_uuid", String(36), primary_key=True),
    Column("source_type", String(36), nullable=False),
    Column("source_id", String(36), nullable=False),
    Column("destination_type", String(36), nullable=False),
    Column("destination_id", String(36), nullable=False),
    UniqueConstraint("source_type", "source_id", "destination_type", "destination_id"),
    Index("ix_inputs_destination", "destination_type", "destination_id"),
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("input_uuid", String(36), ForeignKey("inputs.input_uuid"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", String(500), nullable=False),
    PrimaryKeyConstraint("input_uuid", "name"),
)

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(36), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2048), nullable=False),
    Column("status", Integer, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", String(1000)),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Index(
        "ix_logged_models_exp_stage_ctime",
        "experiment_id",
        "lifecycle_stage",
        "creation_timestamp_ms",
        "model_id",
    ),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(36), ForeignKey("logged_models.model_id"), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("param_key", String(255), nullable=False),
    Column("param_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "param_key"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(36), ForeignKey("logged_models.model_id"), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("tag_key", String(255), nullable=False),
    Column("tag_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "tag_key"),
)

logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("model_id", String(36), ForeignKey("logged_models.model_id"), nullable=False),
    Column("metric_name", String(500), nullable=False),
    Column("metric_timestamp_ms", BigInteger, nullable=False),
    Column("metric_step", BigInteger, nullable=False),
    # NaN as 0 + is_nan, as in `metrics`.
    Column("metric_value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False, default=False),
    Column("experiment_id", Integer, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("dataset_uuid", String(36), nullable=True),
    Column("dataset_name", String(500), nullable=True),
    Column("dataset_digest", String(36), nullable=True),
    PrimaryKeyConstraint("model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"),
    Index("ix_logged_model_metrics_name_value", "metric_name", "metric_value"),
)

run_outputs = Table(
    "run_outputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid"), nullable=False),
    Column("model_id", String(36), nullable=False),
    Column("step", BigInteger, nullable=False, default=0),
    PrimaryKeyConstraint("run_uuid", "model_id", "step"),
)


@event.listens_for(metadata, "before_create")
def _dialect_specific_ddl(target: MetaData, connection: Connection, **_: Any) -> None:
    """What the connection's database adds to these tables (indexes, table options) when
    ``create_all`` runs: see :mod:`runstash_metadata.store.queries.ddl`. The service itself creates
    its schema with the migrations or :func:`~runstash_metadata.store.migrate.create_fresh`."""
    from runstash_metadata.store.queries.ddl import ddl_for  # it builds on these tables

    ddl_for(connection.dialect.name).prepare(target)


ALL_TABLES = tuple(metadata.sorted_tables)
