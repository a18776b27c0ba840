"""Every RPC of the contract declares its permission; a service with an undeclared RPC cannot start."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor
from runstash_protos import artifacts_pb2, authz, metadata_pb2, traces_pb2
from runstash_protos.options_pb2 import Access, Resource

SERVICES = [
    metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"],
    artifacts_pb2.DESCRIPTOR.services_by_name["ArtifactService"],
    traces_pb2.DESCRIPTOR.services_by_name["TraceService"],
]


def test_every_rpc_of_the_contract_declares_a_permission() -> None:
    table = authz.permission_table(SERVICES)
    assert len(table) == sum(len(s.methods) for s in SERVICES)


def test_resource_fields_exist_on_their_requests() -> None:
    for service in SERVICES:
        for method in service.methods:
            requirement = authz.Requirement.of(method)
            assert requirement is not None
            for path in (*requirement.fields, *requirement.fallback_fields):
                assert _has_path(method.input_type, path), (method.full_name, path)
            if requirement.access in (Access.READ, Access.USE, Access.EDIT, Access.MANAGE):
                assert requirement.resource != Resource.RESOURCE_UNSPECIFIED, method.full_name


def _has_path(request: Descriptor, path: str) -> bool:
    """A declared field, nested ones too (``trace.trace_info.trace_location...``), is on the request."""
    message: Descriptor | None = request
    for name in path.split("."):
        if message is None or name not in message.fields_by_name:
            return False
        message = message.fields_by_name[name].message_type
    return True


def test_a_misspelt_nested_field_is_caught() -> None:
    create = traces_pb2.DESCRIPTOR.message_types_by_name["CreateAssessment"]
    assert _has_path(create, "assessment.trace_id")
    assert not _has_path(create, "assessment.trace")
    assert not _has_path(create, "assessment.trace_id.more")


def _service_without_option() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    proto = descriptor_pb2.FileDescriptorProto(name="undeclared.proto", package="undeclared")
    proto.message_type.add(name="Empty")
    service = proto.service.add(name="Open")
    service.method.add(name="Anything", input_type=".undeclared.Empty", output_type=".undeclared.Empty")
    pool.Add(proto)
    return pool


def test_an_rpc_without_a_permission_refuses_to_start() -> None:
    service = _service_without_option().FindServiceByName("undeclared.Open")
    with pytest.raises(authz.UndeclaredPermission, match=r"undeclared\.Open\.Anything"):
        authz.permission_table([service])
    with pytest.raises(authz.UndeclaredPermission):
        authz.guard_servicer(object(), service, None)
