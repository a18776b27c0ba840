"""The tracking schema as SQLAlchemy Core tables (the names are a contract with search/).

Conventions the rest of the service relies on:

* NaN metric values are stored as ``value = 0, is_nan = true`` (MySQL has no NaN);
  +-inf arrives already clamped to +-1.7976931348623157e308.
* ``latest_metrics`` holds one row per (run, key): the point with the greatest
  (step, timestamp, value) tuple, maintained on write.
* Hot write tables (``metrics``, ``latest_metrics``) carry no foreign key: the store checks the run
  inside the same transaction, and a per-row FK check would cost throughput on PostgreSQL.
* MySQL/MariaDB tables use ``utf8mb4_bin`` so keys, names and LIKE compare case-sensitively as on
  the other databases (the default ``*_ci`` collation would make param ``LR`` collide with ``lr``).
* Long text values (param/tag values) cannot sit in a plain btree on every database: PostgreSQL
  caps an index row at ~2.7 kB and MySQL at 3072 bytes. Value lookups therefore use a hash index on
  PostgreSQL (equality only, no size limit), a 255-char prefix on MySQL, and a full btree on SQLite.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    DDL,
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

# Applied to every table when DDL is emitted on MySQL/MariaDB (see _dialect_specific_ddl).
_MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}

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


def _add_dialect_indexes() -> None:
    # Value lookups for params.<k> = '<v>' / tags.<k> = '<v>' (see module docstring for why per dialect).
    for table in (params, tags):
        name = table.name
        Index(f"ix_{name}_key_value", table.c.key, table.c.value).ddl_if(dialect="sqlite")
        for mysql_family in ("mysql", "mariadb"):
            Index(
                f"ix_{name}_key_value",
                table.c.key,
                table.c.value,
                mysql_length={"value": 255},
            ).ddl_if(dialect=mysql_family)
        Index(f"ix_{name}_value_hash", table.c.value, postgresql_using="hash").ddl_if(dialect="postgresql")
        # Key-leading lookups on PostgreSQL (the hash index above matches a value under any key).
        Index(f"ix_{name}_key_run_uuid", table.c.key, table.c.run_uuid).ddl_if(dialect="postgresql")

    # Ordering by a metric: a LEFT JOIN on (run_uuid, key) served index-only (migration 0002).
    Index(
        "ix_latest_metrics_key_run_uuid",
        latest_metrics.c.key,
        latest_metrics.c.run_uuid,
        postgresql_include=["value", "is_nan"],
    ).ddl_if(dialect="postgresql")
    for family in ("sqlite", "mysql", "mariadb"):
        Index(
            "ix_latest_metrics_key_run_uuid",
            latest_metrics.c.key,
            latest_metrics.c.run_uuid,
            latest_metrics.c.value,
            latest_metrics.c.is_nan,
        ).ddl_if(dialect=family)


# PostgreSQL extended statistics (migration 0003): a value belongs to one key, so the planner
# needs the joint frequency of (key, value) to estimate `params.k = 'v'`.
KEY_VALUE_STATISTICS = {
    f"st_{name}_key_value": (
        f"CREATE STATISTICS IF NOT EXISTS st_{name}_key_value (mcv) ON key, value FROM {name}"
    )
    for name in ("params", "tags")
}
for _table in (params, tags):
    _ddl = DDL(KEY_VALUE_STATISTICS[f"st_{_table.name}_key_value"])  # type: ignore[no-untyped-call]
    event.listen(_table, "after_create", _ddl.execute_if(dialect="postgresql"))

# PostgreSQL: per (run, key) and block of 1024 steps, the points stored and a bitmap of the steps
# present, maintained by the points write (queries/postgres.py; migration 0008). A block whose
# point count equals its bitmap's population has each of its steps exactly once, so a position in
# the (step, ...) order maps to a step by arithmetic: the exact NTILE sample of
# get-history-bulk-interval without counting or numbering the history (sampled_history.py).
# The blocks' timestamp ranges tell when a history's (timestamp, step, value) order is block by
# block (each block's range at or after the previous one's), so a get-history page reads only its
# own blocks through the primary key instead of sorting the whole history (history.py).
# Points are never deleted one by one; whatever deletes a run's metrics must delete its blocks.
STEP_BLOCK_BITS = 1024
STEP_BLOCKS_DDL = f"""CREATE TABLE metric_step_blocks (
    run_uuid VARCHAR(32) NOT NULL,
    key VARCHAR(250) NOT NULL,
    block BIGINT NOT NULL,
    points BIGINT NOT NULL,
    steps BIT({STEP_BLOCK_BITS}) NOT NULL,
    min_ts BIGINT NOT NULL,
    max_ts BIGINT NOT NULL,
    CONSTRAINT pk_metric_step_blocks PRIMARY KEY (run_uuid, key, block)
)"""
# The block rows of a set of points ``{source}`` (run_uuid, key, step, "timestamp").
STEP_BLOCK_ROWS = f"""SELECT run_uuid, key, step >> 10, count(*),
       bit_or(set_bit(CAST(B'0' AS BIT({STEP_BLOCK_BITS})), CAST(step & 1023 AS INTEGER), 1)),
       min("timestamp"), max("timestamp")
FROM {{source}} GROUP BY run_uuid, key, step >> 10"""
event.listen(
    metrics,
    "after_create",
    DDL(STEP_BLOCKS_DDL).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)

_dialect_ddl_added: list[bool] = []


@event.listens_for(metadata, "before_create")
def _dialect_specific_ddl(target: MetaData, connection: Connection, **_: Any) -> None:
    """Attach the dialect-specific table options and indexes when ``create_all`` runs.

    Declared at import they would cost start-up: SQLAlchemy imports a dialect's package to check
    its keyword arguments (``mysql_charset``, ``postgresql_using``, ...), i.e. every dialect package
    in every process (0.3-1 s). The service itself creates its schema with the migrations; this
    hook keeps ``metadata.create_all`` (tests, tools) complete.
    """
    if not _dialect_ddl_added:
        _add_dialect_indexes()
        _dialect_ddl_added.append(True)
    if connection.dialect.name in ("mysql", "mariadb"):
        for table in target.tables.values():
            for option, value in _MYSQL_TABLE_OPTIONS.items():
                table.dialect_kwargs[option] = value


ALL_TABLES = tuple(metadata.sorted_tables)
