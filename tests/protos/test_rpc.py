"""The gRPC boundary: domain errors cross it with their MLflow code; bugs cross it without details."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from runstash_protos import metadata_pb2 as pb
from runstash_protos import metadata_pb2_grpc
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error, not_found
from runstash_protos.rpc import ErrorInterceptor


class Failing(metadata_pb2_grpc.MetadataServiceServicer):
    def GetRun(self, request: pb.GetRun, context: Any) -> pb.GetRun.Response:
        raise not_found(f"Run with id={request.run_id} not found")

    def GetExperiment(self, request: pb.GetExperiment, context: Any) -> pb.GetExperiment.Response:
        raise KeyError("secret internals")

    def DeleteRun(self, request: pb.DeleteRun, context: Any) -> pb.DeleteRun.Response:
        return pb.DeleteRun.Response()


@pytest.fixture(scope="module")
def stub() -> Iterator[metadata_pb2_grpc.MetadataServiceStub]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), interceptors=[ErrorInterceptor()])
    # Only three RPCs are implemented; the rest keep the generated UNIMPLEMENTED answers.
    metadata_pb2_grpc.add_MetadataServiceServicer_to_server(Failing(), server)  # type: ignore[abstract]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield metadata_pb2_grpc.MetadataServiceStub(channel)
    server.stop(grace=None)


def test_domain_error_keeps_its_mlflow_code_across_the_wire(
    stub: metadata_pb2_grpc.MetadataServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetRun(pb.GetRun(run_id="abc"))
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    error = from_rpc_error(raised.value)
    assert (error.code, error.message) == (ErrorCode.RESOURCE_DOES_NOT_EXIST, "Run with id=abc not found")
    assert error.http_status == 404
    assert error.to_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_unexpected_exception_is_internal_without_details(
    stub: metadata_pb2_grpc.MetadataServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetExperiment(pb.GetExperiment(experiment_id="1"))
    error = from_rpc_error(raised.value)
    assert error.code is ErrorCode.INTERNAL_ERROR
    assert "secret" not in error.message


def test_success_passes_through(stub: metadata_pb2_grpc.MetadataServiceStub) -> None:
    assert stub.DeleteRun(pb.DeleteRun(run_id="x")) == pb.DeleteRun.Response()


def test_transport_failure_becomes_temporarily_unavailable() -> None:
    with grpc.insecure_channel("127.0.0.1:1") as channel:
        dead = metadata_pb2_grpc.MetadataServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            dead.GetRun(pb.GetRun(run_id="x"), timeout=5)
    assert from_rpc_error(raised.value).code is ErrorCode.TEMPORARILY_UNAVAILABLE


def test_error_table_maps_every_code() -> None:
    for code in ErrorCode:
        error = RunstashError(code, "m")
        assert 400 <= error.http_status <= 599
        assert error.to_json()["message"] == "m"
