"""An :class:`~runstash_protos.authz.Authority` for a service without the identity data (the
artifact service deployed alone): it asks the metadata service's AuthService, forwarding the
caller's own call metadata, so the decision is the metadata service's, from the same table.

An identity is verified once per credential for a short time (GetCurrentUser); each decision is
one Authorize call on the caller's behalf.
"""

from __future__ import annotations

import hashlib
import threading
import time

import grpc

from runstash_protos import auth_pb2
from runstash_protos.auth_pb2_grpc import AuthServiceStub
from runstash_protos.authz import Caller, Metadata, identity_of, unauthenticated

IDENTITY_TTL_S = 30.0


class RemoteAuthority:
    enabled = True

    def __init__(self, channel: grpc.Channel, timeout_s: float = 30.0) -> None:
        self._stub = AuthServiceStub(channel)
        self._timeout = timeout_s
        self._callers: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # the forwarded metadata of the call in this thread

    def authenticate(self, metadata: Metadata, peer: str) -> Caller | None:
        forwarded = identity_of(metadata)  # nothing else of the incoming call is forwarded
        self._local.forwarded = forwarded
        if not any(k in ("authorization", "x-runstash-user") for k, _ in forwarded):
            return None
        key = hashlib.sha256(repr(forwarded).encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._callers.get(key)
        if hit is not None and now < hit[1]:
            return hit[0]
        try:
            user = self._stub.GetCurrentUser(
                auth_pb2.GetCurrentUser(), metadata=forwarded, timeout=self._timeout
            ).user
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise unauthenticated() from None
            raise
        caller = Caller(user.username, user.id, user.is_admin)
        with self._lock:
            if len(self._callers) > 10_000:
                self._callers.clear()
            self._callers[key] = (caller, now + IDENTITY_TTL_S)
        return caller

    def allowed(self, caller: Caller, access: int, resource: int, ids: tuple[str, ...]) -> bool:
        request = auth_pb2.Authorize(access=access, resource=resource, ids=ids)  # type: ignore[arg-type]
        forwarded = getattr(self._local, "forwarded", ())
        return bool(self._stub.Authorize(request, metadata=forwarded, timeout=self._timeout).allowed)

    def search_scope(self, caller: Caller) -> object:
        return None  # no searches here

    def creator_manages(self, caller: Caller, resource_type: str, resource_id: str) -> None:
        raise NotImplementedError("resources are created by the metadata service")
