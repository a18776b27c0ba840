"""The roles half of the AuthService (MLflow 3.x ``/api/3.0/mlflow/roles/...``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from runstash_protos import auth_pb2 as pb
from runstash_protos.errors import invalid_parameter
from sqlalchemy import Connection

from runstash_metadata.identity import roles, store
from runstash_metadata.identity.authority import LocalAuthority
from runstash_metadata.identity.levels import rank_of
from runstash_metadata.identity.roles import DEFAULT_WORKSPACE


def _permission(p: roles.RolePermission) -> pb.RolePermission:
    return pb.RolePermission(
        id=p.id, role_id=p.role_id, resource_type=p.resource_type, resource_pattern=p.resource_pattern,
        permission=p.permission,
    )  # fmt: skip


def _role(role: roles.Role) -> pb.Role:
    message = pb.Role(
        id=role.id, name=role.name, workspace=role.workspace, permissions=map(_permission, role.permissions)
    )
    if role.description is not None:
        message.description = role.description
    return message


def _required_id(value: int, name: str) -> int:
    if not value:
        raise invalid_parameter(
            f"Missing value for required parameter '{name}'. "
            "See the API docs for more information about request parameters."
        )
    return value


class RolesMixin:
    """Needs ``authority`` and ``_tx()`` (a write transaction) from the class it is mixed into."""

    authority: LocalAuthority
    _tx: Callable[[], AbstractContextManager[Connection]]

    def CreateRole(self, request: pb.RoleRequest, context: object) -> pb.RoleRequest.Response:
        if not request.name:
            _required_id(0, "name")
        with self._tx() as conn:
            role = roles.create_role(
                conn, request.name, request.workspace or DEFAULT_WORKSPACE, request.description or None
            )
        return pb.RoleRequest.Response(role=_role(role))

    def GetRole(self, request: pb.RoleRequest, context: object) -> pb.RoleRequest.Response:
        with self._tx() as conn:
            return pb.RoleRequest.Response(
                role=_role(roles.get_role(conn, _required_id(request.role_id, "role_id")))
            )

    def ListRoles(self, request: pb.ListRoles, context: object) -> pb.ListRoles.Response:
        with self._tx() as conn:
            return pb.ListRoles.Response(roles=map(_role, roles.list_roles(conn, list(request.workspace))))

    def UpdateRole(self, request: pb.RoleRequest, context: object) -> pb.RoleRequest.Response:
        if not request.name and not request.description:
            raise invalid_parameter("At least one of 'name' or 'description' must be provided.")
        with self._tx() as conn:
            role = roles.update_role(
                conn, _required_id(request.role_id, "role_id"), request.name, request.description
            )
        return pb.RoleRequest.Response(role=_role(role))

    def DeleteRole(self, request: pb.RoleRequest, context: object) -> pb.Empty:
        with self._tx() as conn:
            roles.delete_role(conn, _required_id(request.role_id, "role_id"))
        self.authority.forget_grants()
        return pb.Empty()

    def AddRolePermission(
        self, request: pb.RolePermissionRequest, context: object
    ) -> pb.RolePermissionRequest.Response:
        rank_of(request.permission)
        if not request.resource_type or not request.resource_pattern:
            raise invalid_parameter("resource_type and resource_pattern are required.")
        with self._tx() as conn:
            added = roles.add_permission(
                conn,
                _required_id(request.role_id, "role_id"),
                request.resource_type,
                request.resource_pattern,
                request.permission,
            )
        self.authority.forget_grants()
        return pb.RolePermissionRequest.Response(role_permission=_permission(added))

    def RemoveRolePermission(self, request: pb.RolePermissionRequest, context: object) -> pb.Empty:
        with self._tx() as conn:
            roles.remove_permission(conn, _required_id(request.role_permission_id, "role_permission_id"))
        self.authority.forget_grants()
        return pb.Empty()

    def ListRolePermissions(
        self, request: pb.ListRolePermissions, context: object
    ) -> pb.ListRolePermissions.Response:
        with self._tx() as conn:
            role = roles.get_role(conn, _required_id(request.role_id, "role_id"))
        return pb.ListRolePermissions.Response(role_permissions=map(_permission, role.permissions))

    def UpdateRolePermission(
        self, request: pb.RolePermissionRequest, context: object
    ) -> pb.RolePermissionRequest.Response:
        rank_of(request.permission)
        with self._tx() as conn:
            updated = roles.set_permission(
                conn, _required_id(request.role_permission_id, "role_permission_id"), request.permission
            )
        self.authority.forget_grants()
        return pb.RolePermissionRequest.Response(role_permission=_permission(updated))

    def AssignRole(self, request: pb.AssignRole, context: object) -> pb.AssignRole.Response:
        with self._tx() as conn:
            user = store.get_user(conn, request.username)
            assignment_id, user_id, role_id = roles.assign(
                conn, user, _required_id(request.role_id, "role_id")
            )
        self.authority.forget_grants(user_id)
        return pb.AssignRole.Response(
            assignment=pb.RoleAssignment(id=assignment_id, user_id=user_id, role_id=role_id)
        )

    def UnassignRole(self, request: pb.AssignRole, context: object) -> pb.Empty:
        with self._tx() as conn:
            user = store.get_user(conn, request.username)
            roles.unassign(conn, user, _required_id(request.role_id, "role_id"))
        self.authority.forget_grants(user.id)
        return pb.Empty()

    def ListUserRoles(self, request: pb.ListRoles, context: object) -> pb.ListRoles.Response:
        with self._tx() as conn:
            user = store.get_user(conn, request.username)
            return pb.ListRoles.Response(roles=map(_role, roles.roles_of_user(conn, user)))

    def ListRoleUsers(self, request: pb.ListRoleUsers, context: object) -> pb.ListRoleUsers.Response:
        with self._tx() as conn:
            found = roles.assignments(conn, _required_id(request.role_id, "role_id"))
        return pb.ListRoleUsers.Response(
            assignments=[pb.RoleAssignment(id=i, user_id=u, role_id=r) for i, u, r in found]
        )
