"""The metadata service's answer to "who is calling, and may they?" (``runstash_protos.authz``).

Cheap per request, as the bench requires: a verified credential is cached for a short time under
the SHA-256 of its header value (``credential_cache.py``: scrypt runs once per credential, not
per request, nor once per concurrent request); a user's
grants are one query, cached briefly and dropped on every grant change made here; a run's or
logged model's experiment never changes, so that mapping is cached without expiry.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from runstash_protos.authz import Caller, Metadata, unauthenticated
from runstash_protos.errors import RunstashError
from runstash_protos.options_pb2 import Resource
from sqlalchemy import Column, select

from runstash_metadata.identity import roles, store, workspaces
from runstash_metadata.identity.credential_cache import CredentialCache
from runstash_metadata.identity.levels import NEEDED, RANK, manages_everything
from runstash_metadata.identity.readable import SearchScope
from runstash_metadata.identity.secrets import TOKEN_PREFIX, verify_password
from runstash_metadata.store import schema as s
from runstash_metadata.store.database import Database
from runstash_metadata.store.values import now_ms
from runstash_metadata.tracing.schema import trace_info

V = TypeVar("V")
_EXPERIMENT, _NAME, _RUN = int(Resource.EXPERIMENT), int(Resource.EXPERIMENT_NAME), int(Resource.RUN)
_MODEL, _PATH = int(Resource.LOGGED_MODEL), int(Resource.ARTIFACT_PATH)
_REGISTERED_MODEL = int(Resource.REGISTERED_MODEL)
_TRACE = int(Resource.TRACE)
# (key column, experiment column) of the resources that belong to one experiment for good.
_OWNED_BY = {
    _RUN: (s.runs.c.run_uuid, s.runs.c.experiment_id),
    _MODEL: (s.logged_models.c.model_id, s.logged_models.c.experiment_id),
    _TRACE: (trace_info.c.trace_id, trace_info.c.experiment_id),
}
GRANTS_TTL_S = 2.0
USER_KEY = "x-runstash-user"
SERVICE_KEY = "x-runstash-service-credential"
ADDRESS_KEY = "x-runstash-client-address"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    enabled: bool = False
    default_permission: str = "READ"
    # Shared by the gateway and the services: with it, the gateway vouches for a user name (trusted
    # proxy header) and the client address. Empty: nobody can vouch.
    service_credential: str = ""


class _Lru(OrderedDict[str, V]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class LocalAuthority:
    def __init__(self, db: Database, settings: AuthSettings) -> None:
        from runstash_metadata.identity.throttle import LoginThrottle

        self.enabled = settings.enabled
        self.settings = settings
        self.db = db
        self._default = RANK[settings.default_permission]
        self._lock = threading.Lock()
        self._credentials = CredentialCache()
        self._grants: dict[int, tuple[float, dict[tuple[str, str], str]]] = {}
        self._owners: _Lru[int] = _Lru(100_000)
        self.throttle = LoginThrottle()

    # ------------------------------------------------------------------ authentication

    def forget_credentials(self) -> None:
        """Passwords, admin flags or users changed: verify every credential again."""
        self._credentials.clear()

    def forget_grants(self, user_id: int | None = None) -> None:
        with self._lock:
            if user_id is None:
                self._grants.clear()
            else:
                self._grants.pop(user_id, None)

    def _vouched(self, values: dict[str, str]) -> bool:
        secret = self.settings.service_credential
        given = values.get(SERVICE_KEY, "")
        return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())

    def authenticate(self, metadata: Metadata, peer: str) -> Caller | None:
        values = {k: v if isinstance(v, str) else v.decode("latin-1") for k, v in metadata}
        vouched = self._vouched(values)
        if vouched and USER_KEY in values:
            name = values[USER_KEY]
            # Its own key space: no Authorization value can ever name this entry.
            return self._credentials.get(f"trusted-user:{name}", lambda: self._trusted_user(name))
        header = values.get("authorization")
        if not header:
            return None
        address = values.get(ADDRESS_KEY, peer) if vouched else peer
        return self._credentials.get(f"authorization:{header}", lambda: self._verify(header, address))

    def _trusted_user(self, username: str) -> Caller:
        with self.db.reader() as conn:
            user = store.find_user(conn, username)
        if user is None:
            raise unauthenticated()
        return Caller(user.username, user.id, user.is_admin)

    def _verify(self, header: str, address: str) -> Caller:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value.startswith(TOKEN_PREFIX):
            with self.db.reader() as conn:
                user = store.user_of_token(conn, value.strip(), now_ms())
            if user is None:
                raise unauthenticated()
            return Caller(user.username, user.id, user.is_admin)
        if scheme != "basic":
            raise unauthenticated()
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthenticated() from None
        keys = (username, address)
        if self.throttle.blocked(*keys):
            raise unauthenticated()
        with self.db.reader() as conn:
            user = store.find_user(conn, username)
        if user is None or not verify_password(password, user.password_hash):
            self.throttle.failed(*keys)
            raise unauthenticated()
        self.throttle.succeeded(*keys)
        return Caller(user.username, user.id, user.is_admin)

    # ------------------------------------------------------------------ authorization

    def grants_of(self, user_id: int) -> dict[tuple[str, str], str]:
        now = time.monotonic()
        with self._lock:
            hit = self._grants.get(user_id)
        if hit is not None and now < hit[0]:
            return hit[1]
        with self.db.reader() as conn:
            grants = store.grants_of(conn, user_id)
            for kind, pattern, permission in roles.role_grants(conn, user_id):
                held = grants.get((kind, pattern))
                if held is None or RANK[permission] > RANK[held]:
                    grants[(kind, pattern)] = permission  # the strongest of direct and role grants
        with self._lock:
            self._grants[user_id] = (now + GRANTS_TTL_S, grants)
        return grants

    def rank(self, caller: Caller, resource_type: str, resource_id: str) -> int:
        """The grant on this resource, else on every resource of its type ("*"), else the default."""
        grants = self.grants_of(caller.user_id)
        if manages_everything(grants):
            return RANK["MANAGE"]
        permission = grants.get((resource_type, resource_id)) or grants.get((resource_type, "*"))
        return self._default if permission is None else RANK[permission]

    def allowed(self, caller: Caller, access: int, resource: int, ids: tuple[str, ...]) -> bool:
        if resource in workspaces.KINDS or "*" in ids:
            with self.db.reader() as conn:
                if resource in workspaces.KINDS:
                    return workspaces.allowed(conn, caller.user_id, access, resource, ids)
                return workspaces.manages_default(conn, caller.user_id)  # a grant on every resource
        needed = NEEDED.get(access)
        if needed is None:
            return False
        if not ids and resource != _PATH:
            return False  # deny by default: a request that names no resource proves no right to it
        if resource == _REGISTERED_MODEL:
            return all(self.rank(caller, "registered_model", name) >= needed for name in ids)
        experiments = self._experiments_of(resource, ids)
        if experiments is None:
            return self._default >= needed  # nothing names an experiment (e.g. the artifact root)
        return all(self.rank(caller, "experiment", str(e)) >= needed for e in experiments)

    def creator_manages(self, caller: Caller, resource_type: str, resource_id: str) -> None:
        if caller.is_admin:
            return
        try:
            with self.db.transaction() as conn:
                store.grant(
                    conn,
                    store.User(caller.user_id, caller.username, False, ""),
                    resource_type,
                    resource_id,
                    "MANAGE",
                )
        except RunstashError:
            pass  # a grant on this id exists already (an id reused after a restore): keep it
        self.forget_grants(caller.user_id)

    def search_scope(self, caller: Caller) -> SearchScope:
        return SearchScope.of(self.grants_of(caller.user_id), self._default)

    def _experiments_of(self, resource: int, ids: tuple[str, ...]) -> Iterable[int] | None:
        """The experiments the named resources belong to (unknown ones are skipped: the servicer
        answers 404 for them); None when the request names no experiment at all."""
        if resource == _EXPERIMENT:
            return [int(i) for i in ids if i.isdigit()]
        if resource == _PATH:
            first = ids[0].lstrip("/").split("/", 1)[0] if ids else ""
            return [int(first)] if first.isdigit() else None
        if resource == _NAME:
            e = s.experiments.c
            with self.db.reader() as conn:
                return [r[0] for r in conn.execute(select(e.experiment_id).where(e.name.in_(ids)))]
        owned = _OWNED_BY.get(resource)
        if owned is not None:
            return self._owner_experiments(resource, ids, *owned)
        return []

    def _owner_experiments(
        self, resource: int, ids: tuple[str, ...], key: Column[Any], experiment: Column[Any]
    ) -> list[int]:
        found: list[int] = []
        missing: list[str] = []
        with self._lock:
            for i in ids:
                hit = self._owners.get(f"{resource}:{i}")
                if hit is None:
                    missing.append(i)
                else:
                    found.append(hit)
        if missing:
            with self.db.reader() as conn:
                rows = conn.execute(select(key, experiment).where(key.in_(missing)))
                pairs = [(str(r[0]), int(r[1])) for r in rows]
            with self._lock:
                for i, e in pairs:
                    self._owners.put(f"{resource}:{i}", e)
            found += [e for _, e in pairs]
        return found
