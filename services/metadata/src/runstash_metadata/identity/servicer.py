"""The AuthService servicer: MLflow's basic-auth REST surface over the identity store.

Who may call what is declared in auth.proto and enforced by the guard before a method runs; the
methods here only add what a declaration cannot say (a user changing their own password must
give the current one; nobody deletes themself).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from runstash_protos import auth_pb2 as pb
from runstash_protos.authz import Caller, current_caller, unauthenticated
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter
from sqlalchemy import Connection

from runstash_metadata.identity import store
from runstash_metadata.identity.authority import LocalAuthority
from runstash_metadata.identity.levels import NAMES, RANK, check_resource_type, rank_of
from runstash_metadata.identity.roles_servicer import RolesMixin
from runstash_metadata.identity.secrets import verify_password
from runstash_metadata.store.values import now_ms

_DAY_MS = 86_400_000


def _user(user: store.User) -> pb.User:
    return pb.User(id=user.id, username=user.username, is_admin=user.is_admin)


def _required(value: str, name: str) -> str:
    if not value:
        raise invalid_parameter(
            f"Missing value for required parameter '{name}'. "
            "See the API docs for more information about request parameters."
        )
    return value


def _caller() -> Caller:
    caller = current_caller.get()
    if caller is None:
        raise unauthenticated()
    return caller


class AuthServicer(RolesMixin):
    def __init__(self, authority: LocalAuthority) -> None:
        self.authority = authority

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.authority.db.transaction() as conn:
            yield conn

    # ------------------------------------------------------------------ users

    def CreateUser(self, request: pb.CreateUser, context: object) -> pb.CreateUser.Response:
        with self._tx() as conn:
            user = store.create_user(conn, request.username, request.password)
        return pb.CreateUser.Response(user=_user(user))

    def GetUser(self, request: pb.GetUser, context: object) -> pb.GetUser.Response:
        with self._tx() as conn:
            return pb.GetUser.Response(
                user=_user(store.get_user(conn, _required(request.username, "username")))
            )

    def GetCurrentUser(self, request: pb.GetCurrentUser, context: object) -> pb.GetCurrentUser.Response:
        with self._tx() as conn:
            user = store.get_user(conn, _caller().username)
        return pb.GetCurrentUser.Response(user=_user(user), is_basic_auth=True)

    def ListUsers(self, request: pb.ListUsers, context: object) -> pb.ListUsers.Response:
        with self._tx() as conn:
            return pb.ListUsers.Response(users=[_user(u) for u in store.list_users(conn)])

    def UpdatePassword(self, request: pb.UpdatePassword, context: object) -> pb.Empty:
        caller = _caller()
        username = _required(request.username, "username")
        password = _required(request.password, "password")
        with self._tx() as conn:
            if username == caller.username:
                current = store.get_user(conn, username)
                if not request.current_password:
                    raise invalid_parameter("Current password is required when changing your own password.")
                if not verify_password(request.current_password, current.password_hash):
                    raise invalid_parameter("Current password does not match.")
                if request.current_password == password:
                    raise invalid_parameter("New password must differ from the current password.")
            store.set_password(conn, username, password)
        self.authority.forget_credentials()
        return pb.Empty()

    def UpdateAdmin(self, request: pb.UpdateAdmin, context: object) -> pb.Empty:
        if not request.HasField("is_admin"):
            _required("", "is_admin")
        with self._tx() as conn:
            store.set_admin(conn, _required(request.username, "username"), request.is_admin)
        self.authority.forget_credentials()
        return pb.Empty()

    def DeleteUser(self, request: pb.DeleteUser, context: object) -> pb.Empty:
        username = _required(request.username, "username")
        if username == _caller().username:
            raise RunstashError(
                ErrorCode.BAD_REQUEST,
                "Users cannot delete their own account. Ask another admin to delete this user instead.",
            )
        with self._tx() as conn:
            store.delete_user(conn, username)
        self.authority.forget_credentials()
        self.authority.forget_grants()
        return pb.Empty()

    # ------------------------------------------------------------------ grants

    def _grant(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        check_resource_type(resource_type)
        rank_of(permission)
        with self._tx() as conn:
            user = store.get_user(conn, _required(username, "username"))
            store.grant(conn, user, resource_type, _required(resource_id, "resource_id"), permission)
        self.authority.forget_grants(user.id)

    def _revoke(self, username: str, resource_type: str, resource_id: str) -> None:
        check_resource_type(resource_type)
        with self._tx() as conn:
            user = store.get_user(conn, _required(username, "username"))
            store.revoke(conn, user, resource_type, _required(resource_id, "resource_id"))
        self.authority.forget_grants(user.id)

    def _update(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        rank_of(permission)
        with self._tx() as conn:
            user = store.get_user(conn, _required(username, "username"))
            store.set_grant(conn, user, resource_type, _required(resource_id, "resource_id"), permission)
        self.authority.forget_grants(user.id)

    def _held(self, username: str, resource_type: str, resource_id: str) -> tuple[int, str]:
        """(user id, the permission the user holds on the resource); admins hold MANAGE."""
        with self._tx() as conn:
            user = store.get_user(conn, username)
        if user.is_admin:
            return user.id, "MANAGE"
        # Resolved as every request is (the grant on the resource, on "*", the workspace, the default).
        caller = Caller(user.username, user.id, user.is_admin)
        return user.id, NAMES[self.authority.rank(caller, resource_type, resource_id)]

    def GrantPermission(self, request: pb.GrantPermission, context: object) -> pb.Empty:
        self._grant(request.username, request.resource_type, request.resource_id, request.permission)
        return pb.Empty()

    def RevokePermission(self, request: pb.RevokePermission, context: object) -> pb.Empty:
        self._revoke(request.username, request.resource_type, request.resource_id)
        return pb.Empty()

    def GetPermission(self, request: pb.GetPermission, context: object) -> pb.GetPermission.Response:
        check_resource_type(request.resource_type)
        _, permission = self._held(request.username, request.resource_type, request.resource_id)
        return pb.GetPermission.Response(allowed=RANK[permission] >= RANK["USE"], permission=permission)

    def _permissions(self, username: str) -> pb.ListPermissions.Response:
        with self._tx() as conn:
            user = store.get_user(conn, _required(username, "username"))
            rows = store.grant_rows(conn, user.id)
        return pb.ListPermissions.Response(
            is_admin=user.is_admin,
            permissions=[
                pb.UserPermission(
                    role_id=grant_id,
                    role_name=f"__user_{user.id}__",
                    workspace="default",
                    resource_type=kind,
                    resource_pattern=resource_id,
                    permission=permission,
                )
                for grant_id, kind, resource_id, permission in rows
            ],
        )

    def ListPermissions(self, request: pb.ListPermissions, context: object) -> pb.ListPermissions.Response:
        return self._permissions(request.username)

    def ListCurrentPermissions(self, request: pb.Empty, context: object) -> pb.ListPermissions.Response:
        return self._permissions(_caller().username)

    # ------------------------------------------------------------------ MLflow 2.x routes

    def CreateExperimentPermission(
        self, request: pb.ExperimentPermissionRequest, context: object
    ) -> pb.ExperimentPermissionRequest.Response:
        self._grant(request.username, "experiment", request.experiment_id, request.permission)
        return self.GetExperimentPermission(request, context)

    def GetExperimentPermission(
        self, request: pb.ExperimentPermissionRequest, context: object
    ) -> pb.ExperimentPermissionRequest.Response:
        user_id, permission = self._held(
            _required(request.username, "username"), "experiment", request.experiment_id
        )
        return pb.ExperimentPermissionRequest.Response(
            experiment_permission=pb.ExperimentPermission(
                experiment_id=request.experiment_id, user_id=user_id, permission=permission
            )
        )

    def UpdateExperimentPermission(
        self, request: pb.ExperimentPermissionRequest, context: object
    ) -> pb.Empty:
        self._update(request.username, "experiment", request.experiment_id, request.permission)
        return pb.Empty()

    def DeleteExperimentPermission(
        self, request: pb.ExperimentPermissionRequest, context: object
    ) -> pb.Empty:
        self._revoke(request.username, "experiment", request.experiment_id)
        return pb.Empty()

    def CreateRegisteredModelPermission(
        self, request: pb.RegisteredModelPermissionRequest, context: object
    ) -> pb.RegisteredModelPermissionRequest.Response:
        self._grant(request.username, "registered_model", request.name, request.permission)
        return self.GetRegisteredModelPermission(request, context)

    def GetRegisteredModelPermission(
        self, request: pb.RegisteredModelPermissionRequest, context: object
    ) -> pb.RegisteredModelPermissionRequest.Response:
        user_id, permission = self._held(
            _required(request.username, "username"), "registered_model", request.name
        )
        return pb.RegisteredModelPermissionRequest.Response(
            registered_model_permission=pb.RegisteredModelPermission(
                name=request.name, user_id=user_id, permission=permission
            )
        )

    def UpdateRegisteredModelPermission(
        self, request: pb.RegisteredModelPermissionRequest, context: object
    ) -> pb.Empty:
        self._update(request.username, "registered_model", request.name, request.permission)
        return pb.Empty()

    def DeleteRegisteredModelPermission(
        self, request: pb.RegisteredModelPermissionRequest, context: object
    ) -> pb.Empty:
        self._revoke(request.username, "registered_model", request.name)
        return pb.Empty()

    def Authorize(self, request: pb.Authorize, context: object) -> pb.Authorize.Response:
        return _authorize(self.authority, request)

    # ------------------------------------------------------------------ access tokens

    def CreateAccessToken(
        self, request: pb.CreateAccessToken, context: object
    ) -> pb.CreateAccessToken.Response:
        if request.expires_in_days < 0:
            raise invalid_parameter("expires_in_days must not be negative.")
        expires = now_ms() + request.expires_in_days * _DAY_MS if request.expires_in_days else None
        with self._tx() as conn:
            user = store.get_user(conn, _caller().username)
            token, secret = store.create_token(conn, user, request.name or "token", expires)
        return pb.CreateAccessToken.Response(token=_token(token), secret=secret)

    def ListAccessTokens(self, request: pb.ListAccessTokens, context: object) -> pb.ListAccessTokens.Response:
        with self._tx() as conn:
            user = store.get_user(conn, _caller().username)
            return pb.ListAccessTokens.Response(tokens=[_token(t) for t in store.list_tokens(conn, user)])

    def RevokeAccessToken(self, request: pb.RevokeAccessToken, context: object) -> pb.Empty:
        with self._tx() as conn:
            user = store.get_user(conn, _caller().username)
            store.revoke_token(conn, user, request.id)
        self.authority.forget_credentials()
        return pb.Empty()


def _authorize(authority: LocalAuthority, request: pb.Authorize) -> pb.Authorize.Response:
    caller = _caller()
    allowed = caller.is_admin or authority.allowed(
        caller, request.access, request.resource, tuple(request.ids)
    )
    user = pb.User(id=caller.user_id, username=caller.username, is_admin=caller.is_admin)
    return pb.Authorize.Response(user=user, allowed=allowed)


def _token(token: store.Token) -> pb.AccessToken:
    message = pb.AccessToken(id=token.id, name=token.name, created_ms=token.created_ms, revoked=token.revoked)
    if token.expires_ms is not None:
        message.expires_ms = token.expires_ms
    return message
