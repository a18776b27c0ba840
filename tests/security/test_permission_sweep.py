"""Every HTTP route and every gRPC method, called by every kind of caller, is allowed or denied
exactly as its declared permission (``runstash.options.permission``) says.

Callers: anonymous, a user with no grant (default permission NO_PERMISSIONS), users holding READ,
USE, EDIT and MANAGE on the experiment every request names, and an administrator. "Allowed" means
the guard let the call through: the answer is anything but 401/403 (the filler requests are not
all valid, so 400/404 from the servicer count as allowed). Adding an RPC without a declared
permission fails here (and the server refuses to start).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped]
from google.protobuf.descriptor import MethodDescriptor
from runstash_protos import artifacts_pb2, auth_pb2, authz, metadata_pb2, registry_pb2
from runstash_protos.errors import RunstashError
from runstash_protos.options_pb2 import Access, Resource

from tests.auth.stack import ROLES, AuthStack, auth_stack

SERVICES = [
    metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"],
    artifacts_pb2.DESCRIPTOR.services_by_name["ArtifactService"],
    auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
    registry_pb2.DESCRIPTOR.services_by_name["ModelRegistryService"],
    registry_pb2.DESCRIPTOR.services_by_name["ModelVersionArtifactService"],
]
FILTERED = (Resource.EXPERIMENTS_FILTERED, Resource.REGISTERED_MODELS_FILTERED)
RANKS = {"READ": 1, "USE": 2, "EDIT": 3, "MANAGE": 4}
NEEDED: dict[int, int] = {Access.READ: 1, Access.USE: 2, Access.EDIT: 3, Access.MANAGE: 4}
SELF = "reader"  # the user SELF_OR_ADMIN requests name
# Besides the stack's callers: MLflow's workspace admin, who holds MANAGE on the whole workspace.
CALLERS = (*ROLES, "workspace-manager")
# Hold a grant of their own or a role in the default workspace: MLflow's workspace members.
MEMBERS = ("READ", "USE", "EDIT", "MANAGE", "workspace-manager")
SELF_NAMED = (Resource.SELF_OR_ADMIN, Resource.USER_OR_MANAGER)


@pytest.fixture(scope="module")
def stack(
    database_factory: Any, db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuthStack]:
    database = database_factory.create(db_kind)
    with auth_stack(database.uri, tmp_path_factory.mktemp("artifacts")) as built:
        yield built


def expected(requirement: authz.Requirement, role: str) -> int:
    """200 (allowed), 401 or 403 for ``role`` under ``requirement``."""
    if requirement.access == Access.PUBLIC:
        return 200
    if role == "anonymous":
        return 401
    if role == "admin" or requirement.access == Access.AUTHENTICATED:
        return 200
    if requirement.access == Access.ADMIN:
        return 403
    if requirement.resource in FILTERED:
        return 200  # rows are filtered instead (see test_searches_show_only_readable_models)
    if requirement.resource == Resource.SELF_OR_ADMIN:
        return 200 if role == "READ" else 403
    manager = role == "workspace-manager"
    if requirement.resource == Resource.USER_OR_MANAGER:
        return 200 if role == "READ" or manager else 403
    if requirement.resource == Resource.ANY_WORKSPACE:
        return 200 if manager else 403
    if requirement.resource == Resource.WORKSPACES or (
        requirement.resource == Resource.ROLE_WORKSPACE and requirement.access == Access.READ
    ):
        return 200 if role in MEMBERS else 403
    if requirement.resource == Resource.ROLE_WORKSPACE or manager:
        return 200 if manager else 403
    return 200 if RANKS.get(role, 0) >= NEEDED[requirement.access] else 403


def filler(stack: AuthStack, method: MethodDescriptor, requirement: authz.Requirement) -> dict[str, Any]:
    """Request fields naming the sweep's experiment, run, logged model or user."""
    e, r, m = stack.experiment_id, stack.run_id, stack.model_id
    artifact_path = f"{e}/sweep/a.txt"
    values: dict[str, Any] = {
        "experiment_id": e,
        "experiment_ids": [e],
        "experiment_name": "sweep",
        "run_id": r,
        "run_uuid": r,
        "run_ids": [r],
        "model_id": m,
        "path": "a.txt",
        "artifact_path": artifact_path,
        "key": "k",
        "value": "v",
        "metric_key": "m",
        "tag_key": "k",
        "resource_type": "experiment",
        "resource_id": e,
        "permission": "READ",
        "name": "sweep-model",
        "password": "short",
        "current_password": "short",
        "username": SELF if requirement.resource in SELF_NAMED else "no-such-user",
        "role_id": stack.role_id,
        "role_permission_id": stack.role_permission_id,
        "workspace": "default",
    }
    if requirement.resource == Resource.ARTIFACT_PATH:
        values["path"] = artifact_path
    if method.name in {"GetRunArtifact", "ListRunArtifacts"}:
        values["path"] = ""
    fields = method.input_type.fields_by_name
    request: dict[str, Any] = {}
    for name, given in values.items():
        if name in fields:
            field = fields[name]
            value = [given] if field.is_repeated and not isinstance(given, list) else given
            if field.type == field.TYPE_MESSAGE:
                continue
            plain = field.type in (field.TYPE_STRING, field.TYPE_INT64) or isinstance(value, list)
            request[name] = value if plain else None
    return {k: v for k, v in request.items() if v is not None}


@dataclass(frozen=True)
class Route:
    method: MethodDescriptor
    http_method: str
    template: str
    body: str


def routes() -> list[Route]:
    found = []
    for service in SERVICES:
        for method in service.methods:
            options = method.GetOptions()
            if not options.HasExtension(annotations_pb2.http):
                continue
            rule = options.Extensions[annotations_pb2.http]
            for binding in [rule, *rule.additional_bindings]:
                found.append(Route(method, *_binding(binding)))
    return found


def _binding(rule: http_pb2.HttpRule) -> tuple[str, str, str]:
    for verb in ("get", "post", "put", "patch", "delete"):
        template = getattr(rule, verb)
        if template:
            return verb.upper(), template, rule.body
    raise AssertionError(f"no verb in {rule}")


def _url(template: str, request: dict[str, Any]) -> tuple[str, set[str]]:
    used: set[str] = set()
    parts = []
    for segment in template.split("/"):
        if segment.startswith("{"):
            name = segment.strip("{}").split("=")[0]
            used.add(name)
            parts.append(str(request.get(name, "x")))
        else:
            parts.append(segment)
    return "/".join(parts), used


async def _http(stack: AuthStack, route: Route, role: str) -> int:
    requirement = authz.Requirement.of(route.method)
    assert requirement is not None
    stack.ensure_role()
    request = filler(stack, route.method, requirement)
    url, used = _url(route.template, request)
    rest = {k: v for k, v in request.items() if k not in used}
    if route.body == "*":
        response = await stack.arequest(role, route.http_method, url, json=rest)
    elif route.body:
        response = await stack.arequest(role, route.http_method, url, params=rest, content=b"data")
    else:
        response = await stack.arequest(role, route.http_method, url, params=rest)
    return response.status_code


def _outcome(status: int) -> int:
    return status if status in (401, 403) else 200


def test_every_http_route_for_every_role(stack: AuthStack) -> None:
    stack.ensure_registered_model()
    table = routes()
    assert len(table) > 190  # every binding of every service, /api and /ajax-api
    mismatches = []

    async def sweep() -> int:
        count = 0
        for route in table:
            requirement = authz.Requirement.of(route.method)
            assert requirement is not None
            for role in CALLERS:
                got = _outcome(await _http(stack, route, role))
                count += 1
                if got != expected(requirement, role):
                    mismatches.append(
                        (route.http_method, route.template, role, got, expected(requirement, role))
                    )
        return count

    count = asyncio.run(sweep())
    assert not mismatches, mismatches
    assert count == len(table) * len(CALLERS)


class _Context:
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:5555"

    def is_active(self) -> bool:
        return True

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details

    def send_initial_metadata(self, metadata: Any) -> None:
        pass

    def set_trailing_metadata(self, metadata: Any) -> None:
        pass

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise RuntimeError(details)


def _grpc_call(stack: AuthStack, method: MethodDescriptor, role: str) -> int:
    requirement = authz.Requirement.of(method)
    assert requirement is not None
    servicer = stack.servicers[method.containing_service.full_name]
    request_class = {
        "runstash.metadata.MetadataService": metadata_pb2,
        "runstash.artifacts.ArtifactService": artifacts_pb2,
        "runstash.auth.AuthService": auth_pb2,
        "runstash.registry.ModelRegistryService": registry_pb2,
        "runstash.registry.ModelVersionArtifactService": registry_pb2,
    }[method.containing_service.full_name]
    message_class = _message_class(request_class, method.input_type.full_name)
    stack.ensure_role()
    request = message_class(**filler(stack, method, requirement))
    context = _Context(tuple(stack.headers.get(role, {}).items()))
    handler = getattr(servicer, method.name)
    try:
        result = handler(iter([request]), context) if method.client_streaming else handler(request, context)
        if method.server_streaming:
            for _ in result:
                break
    except RunstashError as error:
        return error.http_status
    except Exception:
        return 200  # the guard let it through; the filler request failed further in
    return 200


def _message_class(module: Any, full_name: str) -> Any:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(module.DESCRIPTOR.pool.FindMessageTypeByName(full_name))


def test_every_grpc_method_for_every_role(stack: AuthStack) -> None:
    stack.ensure_registered_model()
    mismatches = []
    count = 0
    for service in SERVICES:
        for method in service.methods:
            requirement = authz.Requirement.of(method)
            assert requirement is not None
            for role in CALLERS:
                got = _outcome(_grpc_call(stack, method, role))
                count += 1
                if got != expected(requirement, role):
                    mismatches.append((method.full_name, role, got, expected(requirement, role)))
    assert not mismatches, mismatches
    assert count == sum(len(s.methods) for s in SERVICES) * len(CALLERS)


def test_the_table_covers_every_service_this_server_runs(stack: AuthStack) -> None:
    assert set(stack.servicers) == {s.full_name for s in SERVICES}
    authz.permission_table(SERVICES)
