"""The trace tables, on the tracking schema's MetaData (store/schema.py conventions).

* ``trace_info`` is the per-trace summary every list reads; it never joins spans to list traces.
  Its fields derived from spans (state, times, previews, name, session, user, tokens) are kept up
  to date on span ingest, so a search filters and orders on columns.
* ``trace_spans`` keeps each span's OTLP protobuf bytes (``content``, returned as is) beside the
  columns span filters use (name, type, status, experiment) and a flat ``attributes`` object
  (key -> string) for attribute filters and full-text search, indexed per database by the DDL
  companion (store/queries/ddl.py: JSONB with GIN and trigram indexes, or an FTS5 trigram table).
* No foreign keys: spans arrive before their trace's info (OTLP first, StartTraceV3 at the end),
  and deletes remove a trace's rows table by table in one transaction.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from runstash_metadata.store.schema import metadata

trace_info = Table(
    "trace_info",
    metadata,
    Column("trace_id", String(50), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("client_request_id", String(250), nullable=True),
    Column("request_time", BigInteger, nullable=False),
    Column("execution_duration", BigInteger, nullable=True),
    Column("state", String(20), nullable=False),
    Column("request_preview", String(1000), nullable=True),
    Column("response_preview", String(1000), nullable=True),
    Column("name", String(500), nullable=True),
    Column("session_id", String(250), nullable=True),
    Column("user_id", String(250), nullable=True),
    Column("run_id", String(32), nullable=True),
    Column("span_count", Integer, nullable=False, default=0),
    Column("root_seen", Boolean, nullable=False, default=False),
    PrimaryKeyConstraint("trace_id"),
    Index("ix_trace_info_experiment_id_request_time", "experiment_id", "request_time", "trace_id"),
    Index("ix_trace_info_experiment_id_session_id", "experiment_id", "session_id"),
    Index("ix_trace_info_request_time", "request_time"),
)

trace_tags = Table(
    "trace_tags",
    metadata,
    Column("trace_id", String(50), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=True),
    PrimaryKeyConstraint("trace_id", "key"),
)

trace_request_metadata = Table(
    "trace_request_metadata",
    metadata,
    Column("trace_id", String(50), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=True),
    PrimaryKeyConstraint("trace_id", "key"),
)

trace_spans = Table(
    "trace_spans",
    metadata,
    Column("trace_id", String(50), nullable=False),
    Column("span_id", String(32), nullable=False),
    Column("parent_span_id", String(32), nullable=True),
    Column("experiment_id", Integer, nullable=False),
    Column("name", String(500), nullable=True),
    Column("span_type", String(500), nullable=True),
    Column("status", String(50), nullable=False),
    Column("start_time_ns", BigInteger, nullable=False),
    Column("end_time_ns", BigInteger, nullable=True),
    Column("attributes", JSON, nullable=True),
    Column("content", LargeBinary, nullable=False),
    PrimaryKeyConstraint("trace_id", "span_id"),
    Index("ix_trace_spans_experiment_id_name", "experiment_id", "name"),
    Index("ix_trace_spans_experiment_id_span_type", "experiment_id", "span_type"),
    Index("ix_trace_spans_experiment_id_status", "experiment_id", "status"),
)

trace_assessments = Table(
    "trace_assessments",
    metadata,
    Column("assessment_id", String(50), nullable=False),
    Column("trace_id", String(50), nullable=False),
    Column("name", String(250), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Text, nullable=True),
    Column("valid", Boolean, nullable=False, default=True),
    Column("create_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    PrimaryKeyConstraint("assessment_id"),
    Index("ix_trace_assessments_trace_id", "trace_id"),
)

TRACE_TABLES = (trace_info, trace_tags, trace_request_metadata, trace_spans, trace_assessments)
