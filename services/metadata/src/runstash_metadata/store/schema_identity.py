"""Identity tables: users, their access tokens, per-user grants and MLflow-style roles.

They live in the tracking database (same migrations, same three dialects) on the tracking schema's
``metadata``, so an empty database gets them from ``create_all`` like every other table.

* Passwords are stored as ``scrypt$n$r$p$<salt hex>$<hash hex>`` (a memory-hard KDF).
* Access tokens are random 256-bit secrets: a plain SHA-256 of the secret is enough to store them
  (nothing to brute-force), and it lets a request find its token by an indexed equality.
* ``grants.resource_id`` is text: an experiment id or a registered-model name.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from runstash_metadata.store.schema import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(255), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("username"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=True),
    Column("revoked", Boolean, nullable=False, default=False),
    UniqueConstraint("token_hash"),
    Index("ix_access_tokens_user_id", "user_id"),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("resource_id", String(500), nullable=False),
    Column("permission", String(32), nullable=False),
    UniqueConstraint("user_id", "resource_type", "resource_id"),
)

roles = Table(
    "roles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("workspace", String(255), nullable=False),
    Column("description", String(1000), nullable=True),
    UniqueConstraint("name", "workspace"),
)

role_permissions = Table(
    "role_permissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("role_id", Integer, ForeignKey("roles.id"), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("resource_pattern", String(500), nullable=False),
    Column("permission", String(32), nullable=False),
    Index("ix_role_permissions_role_id", "role_id"),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("role_id", Integer, ForeignKey("roles.id"), nullable=False),
    UniqueConstraint("user_id", "role_id"),
)
