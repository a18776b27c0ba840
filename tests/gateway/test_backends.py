"""runstash_gateway.backends: one error boundary and one call context for both backends.

The in-process backend must answer a servicer's bug exactly as a gRPC server running the same
servicer does, pass the same call metadata, keep slow byte streams from starving unary calls, and
shut down the threads it owns.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import httpx
import pytest
from runstash_gateway import GatewayBackends, GatewayConfig, InProcessBackend, RemoteBackend, create_gateway
from runstash_gateway.backends import InProcessContext, RpcMethod
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError
from runstash_protos.metadata_pb2_grpc import add_MetadataServiceServicer_to_server
from runstash_protos.rpc import service_server

from .conftest import METADATA_SERVICE, FakeMetadataServicer

JSON = {"Content-Type": "application/json"}


class FaultyServicer(FakeMetadataServicer):
    """The ways a servicer can fail, one per experiment name."""

    def GetExperimentByName(self, request: pb.GetExperimentByName, context: Any) -> Any:
        name = request.experiment_name
        if name == "bug":
            raise KeyError("a servicer bug")
        if name == "abort":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        if name == "set-code":
            context.set_code(grpc.StatusCode.FAILED_PRECONDITION)
            context.set_details("set and returned")
            return pb.GetExperimentByName.Response()
        if name == "domain":
            raise RunstashError(ErrorCode.RESOURCE_DOES_NOT_EXIST, "No experiment named 'domain'")
        return super().GetExperimentByName(request, context)


def _answers(backends: GatewayBackends, names: list[str]) -> list[tuple[int, Any]]:
    async def main() -> list[tuple[int, Any]]:
        app = await create_gateway(backends, GatewayConfig())
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:5000") as client:
                answers = []
                for name in names:
                    got = await client.get(
                        "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}
                    )
                    answers.append((got.status_code, got.json()))
                return answers
        finally:
            await app.close()

    return asyncio.run(main())


def test_the_same_servicer_failure_answers_the_same_in_both_deployments() -> None:
    names = ["bug", "abort", "set-code", "domain"]
    servicer = FaultyServicer()  # type: ignore[abstract]
    in_process = _answers(GatewayBackends.of(InProcessBackend({METADATA_SERVICE: servicer})), names)

    register = functools.partial(add_MetadataServiceServicer_to_server, servicer)
    server, port = service_server([(METADATA_SERVICE, register)], "127.0.0.1:0")
    server.start()
    try:
        remote = _answers(GatewayBackends.of(RemoteBackend([f"127.0.0.1:{port}"])), names)
    finally:
        server.stop(None)

    assert in_process == remote
    bug, abort, set_code, domain = in_process
    assert bug == (
        500,
        {
            "error_code": "INTERNAL_ERROR",
            "message": "Internal error; see the server log.",
            "sqlstate": "XXM00",
            "error_class": "CLIENT_INTERNAL_ERROR",
        },
    )
    assert abort[0] == 403 and abort[1]["message"] == "not yours"
    assert set_code[0] == 500 and set_code[1]["message"] == "set and returned"
    assert domain[0] == 404 and domain[1]["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_in_process_context_carries_the_present_empty_metadata_like_a_remote_call() -> None:
    seen: dict[str, str] = {}

    async def body(backends: GatewayBackends) -> None:
        app = await create_gateway(backends, GatewayConfig())
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:5000") as client:
                got = await client.post(
                    "/api/2.0/mlflow/logged-models/search",
                    json={"experiment_ids": [], "order_by": [], "max_results": 3},
                    headers=JSON,
                )
                assert got.status_code == 200
        finally:
            await app.close()

    servicer = FakeMetadataServicer()  # type: ignore[abstract]
    asyncio.run(body(GatewayBackends.of(InProcessBackend({METADATA_SERVICE: servicer}))))
    seen["in_process"] = servicer.metadata["SearchLoggedModels"]["x-runstash-present-empty"]
    register = functools.partial(add_MetadataServiceServicer_to_server, servicer)
    server, port = service_server([(METADATA_SERVICE, register)], "127.0.0.1:0")
    server.start()
    try:
        asyncio.run(body(GatewayBackends.of(RemoteBackend([f"127.0.0.1:{port}"]))))
    finally:
        server.stop(None)
    seen["remote"] = servicer.metadata["SearchLoggedModels"]["x-runstash-present-empty"]
    assert seen == {"in_process": "experiment_ids,order_by", "remote": "experiment_ids,order_by"}


def test_in_process_context_metadata_is_never_none() -> None:
    assert InProcessContext(()).invocation_metadata() == ()
    pairs = (("x-runstash-present-empty", "experiment_ids"),)
    assert InProcessContext(pairs).invocation_metadata() == pairs


class _SlowUploads:
    """A client-streaming servicer method that holds its thread until the stream ends."""

    def __init__(self) -> None:
        self.inside = threading.Event()

    def Upload(self, requests: Iterator[Any], context: Any) -> Any:
        self.inside.set()
        for _ in requests:
            pass
        return pb.LogMetric.Response()

    def Quick(self, request: Any, context: Any) -> Any:
        return pb.LogMetric.Response()


def test_a_stuck_byte_stream_does_not_hold_up_unary_calls() -> None:
    servicer = _SlowUploads()
    backend = InProcessBackend({"svc": servicer}, max_threads=1, max_stream_threads=1)
    upload = RpcMethod("svc", "Upload", pb.LogMetric, pb.LogMetric.Response, True, False)
    quick = RpcMethod("svc", "Quick", pb.LogMetric, pb.LogMetric.Response, False, False)

    async def main() -> float:
        await backend.start()
        release = asyncio.Event()

        async def requests() -> AsyncIterator[Any]:
            yield pb.LogMetric(key="first")
            await release.wait()

        stuck = asyncio.create_task(backend.client_stream(upload, requests(), ()))
        assert await asyncio.to_thread(servicer.inside.wait, 5)
        started = time.perf_counter()
        await asyncio.wait_for(backend.unary(quick, pb.LogMetric(), ()), timeout=5)
        elapsed = time.perf_counter() - started
        release.set()
        await stuck
        await backend.close()
        return elapsed

    assert asyncio.run(main()) < 0.5


def test_close_ends_the_threads_the_backend_owns() -> None:
    servicer = _SlowUploads()
    backend = InProcessBackend({"svc": servicer}, max_threads=2, max_stream_threads=2, label="owned")
    quick = RpcMethod("svc", "Quick", pb.LogMetric, pb.LogMetric.Response, False, False)

    def gateway_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("runstash-gw")]

    before = set(gateway_threads())

    async def main() -> None:
        await backend.start()
        await asyncio.gather(*(backend.unary(quick, pb.LogMetric(), ()) for _ in range(4)))
        assert set(gateway_threads()) - before
        await backend.close()

    asyncio.run(main())
    deadline = time.monotonic() + 5
    while set(gateway_threads()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(gateway_threads()) - before


def test_unknown_method_is_not_implemented() -> None:
    backend = InProcessBackend({"svc": object()})
    missing = RpcMethod("svc", "Nope", pb.LogMetric, pb.LogMetric.Response, False, False)

    async def main() -> None:
        try:
            with pytest.raises(RunstashError) as raised:
                await backend.unary(missing, pb.LogMetric(), ())
            assert raised.value.code == ErrorCode.NOT_IMPLEMENTED
        finally:
            await backend.close()

    asyncio.run(main())
