"""Roles (MLflow 3.x RBAC): named sets of permissions on resource patterns ("*" or an exact id),
assigned to users. Plain functions over a connection; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from runstash_protos.errors import already_exists, not_found
from sqlalchemy import ColumnElement, Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from runstash_metadata.identity.store import User, new_id
from runstash_metadata.store import schema_identity as t

DEFAULT_WORKSPACE = "default"


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
    workspace = get_role(conn, role_id).workspace
    values = {k: v for k, v in (("name", name), ("description", description)) if v}
    if values:
        try:
            conn.execute(update(t.roles).where(t.roles.c.id == role_id).values(**values))
        except IntegrityError:
            raise already_exists(f"Role (name={name}, workspace={workspace}) already exists.") from None
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


def standing(conn: Connection, user_id: int) -> tuple[set[str], set[str]]:
    """``(managed, present)``: the workspaces where the user is a manager (a role holding
    (workspace or *, *, MANAGE), as MLflow's workspace admins) and where they hold any role at all
    (one query). MLflow keeps a user's own grants on a hidden role in the default workspace, so
    any grant of theirs makes them present there too (two queries)."""
    a, p, r, g = t.user_roles.c, t.role_permissions.c, t.roles.c, t.grants.c
    rows = conn.execute(
        select(r.workspace, p.resource_type, p.resource_pattern, p.permission)
        .join_from(t.user_roles, t.roles, r.id == a.role_id)
        .outerjoin(t.role_permissions, p.role_id == r.id)
        .where(a.user_id == user_id)
    )
    managed: set[str] = set()
    present: set[str] = set()
    if conn.execute(select(g.id).where(g.user_id == user_id).limit(1)).first() is not None:
        present.add(DEFAULT_WORKSPACE)
    for workspace, kind, pattern, permission in rows:
        present.add(workspace)
        if kind in ("workspace", "*") and pattern == "*" and permission == "MANAGE":
            managed.add(workspace)
    return managed, present


def workspace_of(conn: Connection, role_id: int | None, role_permission_id: int | None) -> str | None:
    """The workspace of a role, or of a role permission's role; None when there is no such row."""
    r, p = t.roles.c, t.role_permissions.c
    query = select(r.workspace)
    if role_id is not None:
        query = query.where(r.id == role_id)
    else:
        query = query.join_from(t.roles, t.role_permissions, p.role_id == r.id).where(
            p.id == role_permission_id
        )
    return conn.execute(query).scalar_one_or_none()
