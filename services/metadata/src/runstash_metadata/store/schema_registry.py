"""The model registry's tables, on the tracking schema's MetaData (store/schema.py conventions).

* No foreign keys: a rename moves a model's name through every child table inside one transaction
  (registry/models.py), which a cascading key would do differently on each database.
* A deleted model version stays as a row in stage ``Deleted_Internal`` with its source redacted,
  so version numbers are never reused; every read path filters it out.
* A webhook's HMAC secret is stored sealed (Fernet under MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY,
  ``registry/webhooks/sealing.py``: ``fernet:<token>``, opened only to sign) and never returned
  by the API; deliveries are kept so an operator can see what was sent and how the
  receiver answered.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from runstash_metadata.store.schema import metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(256), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", String(5000), nullable=True),
    PrimaryKeyConstraint("name"),
    Index("ix_registered_models_last_updated_time", "last_updated_time"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("name", String(256), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=True),
    PrimaryKeyConstraint("name", "key"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", String(5000), nullable=True),
    Column("current_stage", String(20), nullable=False),
    Column("source", String(500), nullable=False),
    # What get-download-uri answers: the source, or what a models:/ source resolved to.
    Column("storage_location", String(500), nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("run_link", String(500), nullable=True),
    Column("model_id", String(36), nullable=True),
    Column("status", String(20), nullable=False),
    Column("status_message", String(500), nullable=True),
    PrimaryKeyConstraint("name", "version"),
    Index("ix_model_versions_last_updated_time", "last_updated_time"),
    Index("ix_model_versions_run_id", "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=True),
    PrimaryKeyConstraint("name", "version", "key"),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("name", String(256), nullable=False),
    Column("alias", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("name", "alias"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(36), nullable=False),
    Column("name", String(63), nullable=False),
    Column("description", String(1000), nullable=True),
    Column("url", String(2048), nullable=False),
    Column("secret", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("deleted_timestamp", BigInteger, nullable=True),
    PrimaryKeyConstraint("webhook_id"),
    Index("ix_webhooks_creation_timestamp", "creation_timestamp"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("webhook_id", String(36), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    PrimaryKeyConstraint("webhook_id", "entity", "action"),
    Index("ix_webhook_events_entity_action", "entity", "action"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(36), nullable=False),
    Column("webhook_id", String(36), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("error_message", String(1000), nullable=True),
    PrimaryKeyConstraint("delivery_id"),
    Index("ix_webhook_deliveries_webhook_id_timestamp", "webhook_id", "timestamp"),
)

REGISTRY_TABLES = (
    registered_models,
    registered_model_tags,
    model_versions,
    model_version_tags,
    registered_model_aliases,
    webhooks,
    webhook_events,
    webhook_deliveries,
)
