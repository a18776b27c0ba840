"""identity: users, access tokens, grants, roles

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

from runstash_metadata.store.schema_identity import (
    access_tokens,
    grants,
    role_permissions,
    roles,
    user_roles,
    users,
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = (users, access_tokens, grants, roles, role_permissions, user_roles)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind, checkfirst=False)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind, checkfirst=False)
