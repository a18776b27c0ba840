"""The permission every RPC declares (``runstash.options.permission``) and its enforcement.

The table is read from the service descriptors, so the contract is the only place a permission is
written. :func:`permission_table` refuses a service with an undeclared RPC (deny by default); the
servicer guard (:func:`guard_servicer`) enforces the table in front of a servicer, the same object
whether the gateway calls it in-process or a gRPC server exposes it. Deciding on a resource is the
job of an :class:`Authority` (the metadata service's identity module), which owns the data.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from runstash_protos import options_pb2
from runstash_protos.errors import ErrorCode, RunstashError
from runstash_protos.options_pb2 import Access, Resource

Metadata = Sequence[tuple[str, str | bytes]]

# Plain ints: the generated enum wrappers resolve names through a slow __getattr__ on every use.
PUBLIC, AUTHENTICATED, ADMIN = int(Access.PUBLIC), int(Access.AUTHENTICATED), int(Access.ADMIN)
EXPERIMENT, REGISTERED_MODEL = int(Resource.EXPERIMENT), int(Resource.REGISTERED_MODEL)
EXPERIMENTS_FILTERED, SELF_OR_ADMIN = int(Resource.EXPERIMENTS_FILTERED), int(Resource.SELF_OR_ADMIN)
GRANT_TARGET, UNSPECIFIED = int(Resource.GRANT_TARGET), int(Resource.RESOURCE_UNSPECIFIED)
REGISTERED_MODELS_FILTERED = int(Resource.REGISTERED_MODELS_FILTERED)
ROLE_WORKSPACE, USER_OR_MANAGER = int(Resource.ROLE_WORKSPACE), int(Resource.USER_OR_MANAGER)
# Searches: any signed-in caller may search; the rows are reduced to what they may read, in SQL.
FILTERED = frozenset((EXPERIMENTS_FILTERED, REGISTERED_MODELS_FILTERED))
# The call metadata that says who the caller is; a service calling another on the caller's behalf
# forwards exactly these (see :func:`forwarded_identity`), nothing else of the incoming call.
IDENTITY_KEYS = (
    "authorization",
    "x-runstash-user",
    "x-runstash-service-credential",
    "x-runstash-client-address",
)

UNAUTHENTICATED_MESSAGE = (
    "You are not authenticated. Please see "
    "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate."
)
PERMISSION_DENIED_MESSAGE = "Permission denied"


class UndeclaredPermission(RuntimeError):
    """A service has RPCs without ``runstash.options.permission``: it must not start."""


@dataclass(frozen=True, slots=True)
class Requirement:
    access: int  # options_pb2.Access
    resource: int = UNSPECIFIED
    fields: tuple[str, ...] = ()
    fallback_resource: int = UNSPECIFIED
    fallback_fields: tuple[str, ...] = ()
    creator_manages: str = ""

    @classmethod
    def of(cls, method: MethodDescriptor) -> Requirement | None:
        options = method.GetOptions()
        if not options.HasExtension(options_pb2.permission):
            return None
        p = options.Extensions[options_pb2.permission]
        if p.access == Access.ACCESS_UNSPECIFIED:
            return None
        return cls(
            p.access,
            p.resource,
            tuple(p.field),
            p.fallback_resource,
            tuple(p.fallback_field),
            p.creator_manages,
        )

    def target(self, request: Message) -> tuple[int, tuple[str, ...]]:
        """The resource kind and the ids the request names (no ids: the request names none).

        For ROLE_WORKSPACE the id says which field named it (``role_id=5``): a role, a role
        permission and a workspace are found differently."""
        if self.resource == GRANT_TARGET:
            kind = _GRANT_TARGETS.get(getattr(request, self.fields[0]), UNSPECIFIED)
            return kind, (getattr(request, self.fields[1]),)
        for resource, fields in (
            (self.resource, self.fields),
            (self.fallback_resource, self.fallback_fields),
        ):
            for name in fields:
                value = _dotted(request, name) if "." in name else getattr(request, name, None)
                if isinstance(value, (str, int)):
                    if value:
                        return resource, (f"{name}={value}" if resource == ROLE_WORKSPACE else str(value),)
                elif value:
                    return resource, tuple(str(v) for v in value)
        return self.resource, ()


def _dotted(message: Message, path: str) -> Any:
    """A nested field's value (``trace.trace_info.trace_location...``); through a repeated
    message field, the list of what each item holds (``locations.mlflow_experiment.experiment_id``)."""
    values: list[Any] = [message]
    repeated = False
    for part in path.split("."):
        found: list[Any] = []
        for value in values:
            inner = getattr(value, part, None)
            if inner is None or isinstance(inner, (str, bytes, int, float)) or hasattr(inner, "ListFields"):
                found.append(inner)
            else:
                repeated = True
                found.extend(inner)
        values = found
    if repeated:
        return [v for v in values if isinstance(v, str) and v]
    return values[0] if values else None


_GRANT_TARGETS = {"experiment": EXPERIMENT, "registered_model": REGISTERED_MODEL}
_RESOURCE_TYPES: dict[int, str] = {
    EXPERIMENT: "experiment",
    REGISTERED_MODEL: "registered_model",
}


def permission_table(services: Sequence[ServiceDescriptor]) -> dict[str, Requirement]:
    """``{"/pkg.Service/Method": Requirement}``; raises if any RPC declares nothing."""
    table: dict[str, Requirement] = {}
    missing: list[str] = []
    for service in services:
        for method in service.methods:
            requirement = Requirement.of(method)
            if requirement is None:
                missing.append(method.full_name)
            else:
                table[f"/{service.full_name}/{method.name}"] = requirement
    if missing:
        raise UndeclaredPermission(
            "these RPCs declare no (runstash.options.permission) and would be unguarded: "
            + ", ".join(missing)
        )
    return table


def check_declared(service_names: Sequence[str]) -> None:
    """Start-up check of a server: every RPC of the named services declares its permission."""
    pool = descriptor_pool.Default()
    services = []
    for name in service_names:
        try:
            services.append(pool.FindServiceByName(name))
        except KeyError:
            continue  # health and reflection: not part of the contract
    permission_table(services)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller (anonymous callers are ``None``)."""

    username: str
    user_id: int
    is_admin: bool


class Authority(Protocol):
    """Who the caller is and what they may do; implemented where the identity data lives."""

    enabled: bool

    def authenticate(self, metadata: Metadata, peer: str) -> Caller | None:
        """The caller named by the call metadata, None when it names nobody; raises
        UNAUTHENTICATED for wrong credentials."""
        ...

    def allowed(self, caller: Caller, access: int, resource: int, ids: tuple[str, ...]) -> bool:
        """Whether ``caller`` (not an admin) holds ``access`` on every resource in ``ids``."""
        ...

    def search_scope(self, caller: Caller) -> object:
        """What a search by ``caller`` may return, for the store to apply inside its SQL query."""
        ...

    def creator_manages(self, caller: Caller, resource_type: str, resource_id: str) -> None:
        """Grant MANAGE on a resource ``caller`` just created."""
        ...


# The caller of the RPC running in this thread, and for searches the scope the store applies in SQL.
current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "runstash_caller", default=None
)
current_scope: contextvars.ContextVar[object] = contextvars.ContextVar("runstash_scope", default=None)
# The identity metadata of the RPC running in this thread, for calls made on the caller's behalf.
current_identity: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "runstash_identity", default=()
)


def identity_of(metadata: Metadata) -> tuple[tuple[str, str], ...]:
    """The identity part of ``metadata`` (str values), in its order."""
    return tuple(
        (k, v if isinstance(v, str) else v.decode("latin-1")) for k, v in metadata if k in IDENTITY_KEYS
    )


def forwarded_identity() -> tuple[tuple[str, str], ...]:
    """The call metadata to send when calling another service for the current caller (empty
    outside a guarded RPC, e.g. with auth off)."""
    return current_identity.get()


def unauthenticated() -> RunstashError:
    return RunstashError(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)


def denied() -> RunstashError:
    return RunstashError(ErrorCode.PERMISSION_DENIED, PERMISSION_DENIED_MESSAGE)


def decide(
    requirement: Requirement, authority: Authority, metadata: Metadata, peer: str, request: Message | None
) -> Caller | None:
    """Raise 401/403 unless the call may proceed; returns the caller."""
    if requirement.access == PUBLIC:
        return None
    caller = authority.authenticate(metadata, peer)
    if caller is None:
        raise unauthenticated()
    if caller.is_admin or requirement.access == AUTHENTICATED:
        return caller
    if requirement.access == ADMIN:
        raise denied()
    if requirement.resource in FILTERED:
        # As MLflow: a search is reduced to what the caller may read, in SQL (see current_scope).
        return caller
    if request is None:
        raise denied()
    resource, ids = requirement.target(request)
    if resource == SELF_OR_ADMIN:
        if ids != (caller.username,):
            raise denied()
        return caller
    if resource == USER_OR_MANAGER and ids == (caller.username,):
        return caller
    if resource == UNSPECIFIED or not authority.allowed(caller, requirement.access, resource, ids):
        raise denied()
    return caller


def _created_id(response: Message, path: str) -> str:
    value: Any = response
    for name in path.split("."):
        value = getattr(value, name)
    return str(value)


@dataclass(frozen=True, slots=True)
class _Bound:
    """What the servicer may ask about the call it is serving (caller, search scope, identity)."""

    caller: Caller | None
    scope: object
    identity: tuple[tuple[str, str], ...]

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        tokens = (current_caller.set(self.caller), current_scope.set(self.scope))
        identity = current_identity.set(self.identity)
        try:
            return fn(*args)
        finally:
            current_identity.reset(identity)
            current_scope.reset(tokens[1])
            current_caller.reset(tokens[0])

    def iterate(self, start: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        """A server stream's body runs as gRPC pulls each message, after the guard returned:
        the caller is bound around every step, never left set between them."""
        iterator = self.run(start)
        while True:
            try:
                item = self.run(next, iterator)
            except StopIteration:
                return
            yield item


class _GuardedServicer:
    """A servicer whose every method first enforces its declared permission."""

    def __init__(self, servicer: object, service: ServiceDescriptor, authority: Authority) -> None:
        self._servicer = servicer
        self._authority = authority
        table = permission_table([service])
        # Wrapped once here: a request pays one attribute lookup, not a closure per call.
        for method in service.methods:
            inner = getattr(servicer, method.name, None)
            if inner is None:
                continue
            requirement = table[f"/{service.full_name}/{method.name}"]
            if method.client_streaming:
                setattr(self, method.name, self._streaming(inner, requirement))
            else:
                setattr(self, method.name, self._unary(inner, requirement, method.server_streaming))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._servicer, name)  # anything but an RPC: the servicer's own

    def _unary(self, inner: Callable[..., Any], requirement: Requirement, stream: bool) -> Callable[..., Any]:
        authority = self._authority

        def call(request: Message, context: grpc.ServicerContext) -> Any:
            metadata = context.invocation_metadata()
            caller = decide(requirement, authority, metadata, context.peer(), request)
            scoped = caller is not None and not caller.is_admin and requirement.resource in FILTERED
            bound = _Bound(caller, authority.search_scope(caller) if scoped else None, identity_of(metadata))  # type: ignore[arg-type]
            if stream:
                return bound.iterate(lambda: inner(request, context))
            response = bound.run(inner, request, context)
            if requirement.creator_manages and caller is not None:
                resource_type = _RESOURCE_TYPES[requirement.resource]
                authority.creator_manages(
                    caller, resource_type, _created_id(response, requirement.creator_manages)
                )
            return response

        return call

    def _streaming(self, inner: Callable[..., Any], requirement: Requirement) -> Callable[..., Any]:
        authority = self._authority

        def call(requests: Iterator[Message], context: grpc.ServicerContext) -> Any:
            first = next(requests, None)  # the resource is named by the first message
            metadata = context.invocation_metadata()
            caller = decide(requirement, authority, metadata, context.peer(), first)
            chained = requests if first is None else itertools.chain((first,), requests)
            return _Bound(caller, None, identity_of(metadata)).run(inner, chained, context)

        return call


def guard_servicer(servicer: object, service: ServiceDescriptor, authority: Authority | None) -> object:
    """``servicer`` behind its declared permissions; checks the declarations even with auth off."""
    permission_table([service])
    if authority is None or not authority.enabled:
        return servicer
    return _GuardedServicer(servicer, service, authority)
