"""Roles (MLflow 3.x RBAC): named sets of permissions on resource patterns ("*" or an exact id),
assigned to users. Plain functions over a connection; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from runstash_protos.errors import already_exists, not_found
from sqlalchemy import ColumnElement, Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from runstash_metadata.identity.store import User, new_id
from runstash_metadata.store import schema_identity as t


@dataclass(frozen=True, slots=True)
class RolePermission:
    id: int
    role_id: int
    resource_type: str
    resource_pattern: str
    permission: str


@dataclass(frozen=True, slots=True)
class Role:
    id: int
    name: str
    workspace: str
    description: str | None
    permissions: list[RolePermission] = field(default_factory=list)


def create_role(conn: Connection, name: str, workspace: str, description: str | None) -> Role:
    try:
        result = conn.execute(insert(t.roles).values(name=name, workspace=workspace, description=description))
    except IntegrityError:
        raise already_exists(f"Role (name={name}, workspace={workspace}) already exists.") from None
    return Role(new_id(result), name, workspace, description)


def _permissions_of(conn: Connection, role_ids: list[int]) -> dict[int, list[RolePermission]]:
    p = t.role_permissions.c
    rows = conn.execute(
        select(p.id, p.role_id, p.resource_type, p.resource_pattern, p.permission)
        .where(p.role_id.in_(role_ids))
        .order_by(p.id)
    )
    found: dict[int, list[RolePermission]] = {i: [] for i in role_ids}
    for r in rows:
        found[r.role_id].append(
            RolePermission(r.id, r.role_id, r.resource_type, r.resource_pattern, r.permission)
        )
    return found


def _roles(conn: Connection, condition: ColumnElement[bool]) -> list[Role]:
    r = t.roles.c
    rows = list(
        conn.execute(select(r.id, r.name, r.workspace, r.description).where(condition).order_by(r.id))
    )
    permissions = _permissions_of(conn, [row.id for row in rows])
    return [Role(row.id, row.name, row.workspace, row.description, permissions[row.id]) for row in rows]


def get_role(conn: Connection, role_id: int) -> Role:
    found = _roles(conn, t.roles.c.id == role_id)
    if not found:
        raise not_found(f"Role with id={role_id} not found")
    return found[0]


def list_roles(conn: Connection, workspaces: list[str]) -> list[Role]:
    r = t.roles.c
    return _roles(conn, r.workspace.in_(workspaces) if workspaces else r.id.is_not(None))


def roles_of_user(conn: Connection, user: User) -> list[Role]:
    a = t.user_roles.c
    return _roles(conn, t.roles.c.id.in_(select(a.role_id).where(a.user_id == user.id)))


def update_role(conn: Connection, role_id: int, name: str | None, description: str | None) -> Role:
    get_role(conn, role_id)
    values = {k: v for k, v in (("name", name), ("description", description)) if v}
    if values:
        conn.execute(update(t.roles).where(t.roles.c.id == role_id).values(**values))
    return get_role(conn, role_id)


def delete_role(conn: Connection, role_id: int) -> None:
    get_role(conn, role_id)
    conn.execute(delete(t.user_roles).where(t.user_roles.c.role_id == role_id))
    conn.execute(delete(t.role_permissions).where(t.role_permissions.c.role_id == role_id))
    conn.execute(delete(t.roles).where(t.roles.c.id == role_id))


def add_permission(
    conn: Connection, role_id: int, resource_type: str, pattern: str, permission: str
) -> RolePermission:
    get_role(conn, role_id)
    result = conn.execute(
        insert(t.role_permissions).values(
            role_id=role_id, resource_type=resource_type, resource_pattern=pattern, permission=permission
        )
    )
    return RolePermission(new_id(result), role_id, resource_type, pattern, permission)


def get_permission(conn: Connection, permission_id: int) -> RolePermission:
    p = t.role_permissions.c
    row = conn.execute(
        select(p.id, p.role_id, p.resource_type, p.resource_pattern, p.permission).where(
            p.id == permission_id
        )
    ).first()
    if row is None:
        raise not_found(f"Role permission with id={permission_id} not found")
    return RolePermission(row.id, row.role_id, row.resource_type, row.resource_pattern, row.permission)


def set_permission(conn: Connection, permission_id: int, permission: str) -> RolePermission:
    get_permission(conn, permission_id)
    conn.execute(
        update(t.role_permissions)
        .where(t.role_permissions.c.id == permission_id)
        .values(permission=permission)
    )
    return get_permission(conn, permission_id)


def remove_permission(conn: Connection, permission_id: int) -> None:
    get_permission(conn, permission_id)
    conn.execute(delete(t.role_permissions).where(t.role_permissions.c.id == permission_id))


def assign(conn: Connection, user: User, role_id: int) -> tuple[int, int, int]:
    get_role(conn, role_id)
    try:
        result = conn.execute(insert(t.user_roles).values(user_id=user.id, role_id=role_id))
    except IntegrityError:
        raise already_exists(f"User {user.username} already has role {role_id}.") from None
    return new_id(result), user.id, role_id


def unassign(conn: Connection, user: User, role_id: int) -> None:
    a = t.user_roles.c
    result = conn.execute(delete(t.user_roles).where(a.user_id == user.id, a.role_id == role_id))
    if result.rowcount == 0:
        raise not_found(f"User {user.username} does not have role {role_id}.")


def assignments(conn: Connection, role_id: int) -> list[tuple[int, int, int]]:
    a = t.user_roles.c
    rows = conn.execute(select(a.id, a.user_id, a.role_id).where(a.role_id == role_id).order_by(a.id))
    return [(r.id, r.user_id, r.role_id) for r in rows]


def role_grants(conn: Connection, user_id: int) -> list[tuple[str, str, str]]:
    """(resource_type, pattern, permission) of every role the user holds (one query)."""
    a, p = t.user_roles.c, t.role_permissions.c
    rows = conn.execute(
        select(p.resource_type, p.resource_pattern, p.permission)
        .join_from(t.role_permissions, t.user_roles, a.role_id == p.role_id)
        .where(a.user_id == user_id)
    )
    return [(r.resource_type, r.resource_pattern, r.permission) for r in rows]
