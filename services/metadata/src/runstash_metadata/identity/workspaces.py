"""Who may manage or see roles and users: MLflow 3.x's workspace managers and members.

A workspace manager (MLflow's "workspace admin") holds (workspace or *, *, MANAGE) through a role
in that workspace; they may create users, manage the workspace's roles, their permissions and
assignments, and see other users' grants and roles. A member holds any role there (or, in the
default workspace, any grant of their own); they may see the workspace's roles. Everything here
is in workspace "default" unless a role says otherwise (runstash has no workspace scoping of
experiments or models).
"""

from __future__ import annotations

from runstash_protos.errors import invalid_parameter
from runstash_protos.options_pb2 import Access, Resource
from sqlalchemy import Connection

from runstash_metadata.identity import roles, store
from runstash_metadata.identity.roles import DEFAULT_WORKSPACE

ROLE_WORKSPACE, WORKSPACES = int(Resource.ROLE_WORKSPACE), int(Resource.WORKSPACES)
ANY_WORKSPACE, USER_OR_MANAGER = int(Resource.ANY_WORKSPACE), int(Resource.USER_OR_MANAGER)
KINDS = frozenset((ROLE_WORKSPACE, WORKSPACES, ANY_WORKSPACE, USER_OR_MANAGER))
_MANAGE = int(Access.MANAGE)


def _role_workspace(conn: Connection, ids: tuple[str, ...]) -> str | None:
    """The workspace the request is about; None for an unknown role (refused, not 404, as MLflow
    does, so a non-admin learns nothing of other workspaces' roles)."""
    if not ids:
        raise invalid_parameter("Request must include one of: role_id, role_permission_id, workspace.")
    field, _, value = ids[0].partition("=")
    if field == "workspace":
        return value
    number = int(value)
    if field == "role_id":
        return roles.workspace_of(conn, number, None)
    return roles.workspace_of(conn, None, number)


def allowed(conn: Connection, user_id: int, access: int, resource: int, ids: tuple[str, ...]) -> bool:
    """Whether the (non-admin) user may make a request of one of :data:`KINDS`."""
    managed, present = roles.standing(conn, user_id)
    if resource == ANY_WORKSPACE:
        return bool(managed)
    if resource == WORKSPACES:
        return bool(ids) and set(ids) <= present
    if resource == USER_OR_MANAGER:
        target = store.find_user(conn, ids[0]) if ids else None
        if target is None or not managed:
            return False
        return bool(managed & (roles.standing(conn, target.id)[1] | {DEFAULT_WORKSPACE}))
    workspace = _role_workspace(conn, ids)
    if workspace is None:
        return False
    return workspace in (managed if access == _MANAGE else present)


def manages_default(conn: Connection, user_id: int) -> bool:
    """A grant on every resource of a type ("*") is the default workspace manager's to give."""
    return DEFAULT_WORKSPACE in roles.standing(conn, user_id)[0]
