"""Gateway test harness: a small in-memory metadata servicer, the real artifact servicer on a temp
folder, real gRPC servers (remote backend, reflection over the wire) and the in-process backend.

The fake metadata servicer stands in until runstash_metadata's servicer lands; it records the last
request per RPC so transcoding tests can assert on the protobuf the gateway built.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_reflection.v1alpha import reflection
from runstash_artifacts.servicer import SERVICE_NAME as ARTIFACT_SERVICE
from runstash_artifacts.servicer import ArtifactServicer, build_servicer
from runstash_artifacts.settings import ArtifactSettings
from runstash_gateway import (
    Gateway,
    GatewayBackends,
    GatewayConfig,
    InProcessBackend,
    RemoteBackend,
    create_gateway,
)
from runstash_protos import metadata_pb2 as pb
from runstash_protos.artifacts_pb2_grpc import add_ArtifactServiceServicer_to_server
from runstash_protos.errors import ErrorCode, RunstashError, already_exists, not_found
from runstash_protos.metadata_pb2_grpc import MetadataServiceServicer, add_MetadataServiceServicer_to_server
from runstash_protos.rpc import ErrorInterceptor

METADATA_SERVICE = "runstash.metadata.MetadataService"


class FakeMetadataServicer(MetadataServiceServicer):
    """Just enough of the metadata service to drive the gateway: experiments, runs, metrics."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.metadata: dict[str, dict[str, str]] = {}
        self.experiments: dict[str, pb.Experiment] = {}
        self.runs: dict[str, pb.Run] = {}
        self.metrics: dict[tuple[str, str], list[pb.Metric]] = {}
        self._ids = itertools.count(1)

    def _seen(self, name: str, request: Any) -> None:
        copy = type(request)()
        copy.CopyFrom(request)
        self.last[name] = copy

    def CreateExperiment(self, request: pb.CreateExperiment, context: Any) -> Any:
        self._seen("CreateExperiment", request)
        if not request.name:
            raise RunstashError(
                ErrorCode.INVALID_PARAMETER_VALUE, "Missing value for required parameter 'name'."
            )
        if any(e.name == request.name for e in self.experiments.values()):
            raise already_exists(f"Experiment(name={request.name}) already exists.")
        experiment_id = str(next(self._ids))
        self.experiments[experiment_id] = pb.Experiment(
            experiment_id=experiment_id,
            name=request.name,
            artifact_location=f"mlflow-artifacts:/{experiment_id}",
            lifecycle_stage="active",
            creation_time=1_700_000_000_000,
            last_update_time=1_700_000_000_000,
            tags=list(request.tags),
        )
        return pb.CreateExperiment.Response(experiment_id=experiment_id)

    def GetExperiment(self, request: pb.GetExperiment, context: Any) -> Any:
        self._seen("GetExperiment", request)
        found = self.experiments.get(request.experiment_id)
        if found is None:
            raise not_found(f"No Experiment with id={request.experiment_id} exists")
        return pb.GetExperiment.Response(experiment=found)

    def GetExperimentByName(self, request: pb.GetExperimentByName, context: Any) -> Any:
        self._seen("GetExperimentByName", request)
        for experiment in self.experiments.values():
            if experiment.name == request.experiment_name:
                return pb.GetExperimentByName.Response(experiment=experiment)
        raise not_found(f"Could not find experiment with name '{request.experiment_name}'")

    def SearchExperiments(self, request: pb.SearchExperiments, context: Any) -> Any:
        self._seen("SearchExperiments", request)
        return pb.SearchExperiments.Response(experiments=list(self.experiments.values()))

    def CreateRun(self, request: pb.CreateRun, context: Any) -> Any:
        self._seen("CreateRun", request)
        run_id = f"run{next(self._ids)}"
        run = pb.Run(
            info=pb.RunInfo(
                run_id=run_id,
                run_uuid=run_id,
                run_name=request.run_name or "fake-run",
                experiment_id=request.experiment_id,
                user_id=request.user_id,
                status=pb.RUNNING,
                start_time=request.start_time,
                artifact_uri=f"mlflow-artifacts:/{request.experiment_id}/{run_id}/artifacts",
                lifecycle_stage="active",
            ),
            data=pb.RunData(tags=list(request.tags)),
            inputs=pb.RunInputs(),
        )
        self.runs[run_id] = run
        return pb.CreateRun.Response(run=run)

    def _run(self, run_id: str) -> pb.Run:
        run = self.runs.get(run_id)
        if run is None:
            raise not_found(f"Run with id={run_id} not found")
        return run

    def GetRun(self, request: pb.GetRun, context: Any) -> Any:
        self._seen("GetRun", request)
        return pb.GetRun.Response(run=self._run(request.run_id or request.run_uuid))

    def UpdateRun(self, request: pb.UpdateRun, context: Any) -> Any:
        self._seen("UpdateRun", request)
        run = self._run(request.run_id or request.run_uuid)
        if request.HasField("status"):
            run.info.status = request.status
        if request.HasField("end_time"):
            run.info.end_time = request.end_time
        return pb.UpdateRun.Response(run_info=run.info)

    def LogBatch(self, request: pb.LogBatch, context: Any) -> Any:
        self._seen("LogBatch", request)
        self._run(request.run_id)
        for metric in request.metrics:
            self.metrics.setdefault((request.run_id, metric.key), []).append(metric)
        return pb.LogBatch.Response()

    def LogMetric(self, request: pb.LogMetric, context: Any) -> Any:
        self._seen("LogMetric", request)
        metric = pb.Metric(
            key=request.key, value=request.value, timestamp=request.timestamp, step=request.step
        )
        self.metrics.setdefault((request.run_id, request.key), []).append(metric)
        return pb.LogMetric.Response()

    def GetMetricHistory(self, request: pb.GetMetricHistory, context: Any) -> Any:
        self._seen("GetMetricHistory", request)
        return pb.GetMetricHistory.Response(
            metrics=self.metrics.get((request.run_id, request.metric_key), [])
        )

    def GetMetricHistoryBulkInterval(self, request: pb.GetMetricHistoryBulkInterval, context: Any) -> Any:
        self._seen("GetMetricHistoryBulkInterval", request)
        out = [
            pb.MetricWithRunId(key=m.key, value=m.value, timestamp=m.timestamp, step=m.step, run_id=run_id)
            for run_id in request.run_ids
            for m in self.metrics.get((run_id, request.metric_key), [])
        ]
        return pb.GetMetricHistoryBulkInterval.Response(metrics=out)

    def GetLoggedModel(self, request: pb.GetLoggedModel, context: Any) -> Any:
        self._seen("GetLoggedModel", request)
        if request.model_id == "crash":
            raise RuntimeError("the fake servicer crashed on purpose")
        info = pb.LoggedModelInfo(model_id=request.model_id, model_type="", status=pb.LOGGED_MODEL_READY)
        return pb.GetLoggedModel.Response(model=pb.LoggedModel(info=info, data=pb.LoggedModelData()))

    def DeleteLoggedModelTag(self, request: pb.DeleteLoggedModelTag, context: Any) -> Any:
        self._seen("DeleteLoggedModelTag", request)
        return pb.DeleteLoggedModelTag.Response()

    def FinalizeLoggedModel(self, request: pb.FinalizeLoggedModel, context: Any) -> Any:
        self._seen("FinalizeLoggedModel", request)
        info = pb.LoggedModelInfo(model_id=request.model_id, status=request.status)
        return pb.FinalizeLoggedModel.Response(model=pb.LoggedModel(info=info))

    def SearchLoggedModels(self, request: pb.SearchLoggedModels, context: Any) -> Any:
        self._seen("SearchLoggedModels", request)
        self.metadata["SearchLoggedModels"] = dict(context.invocation_metadata())
        return pb.SearchLoggedModels.Response()


@dataclass
class Services:
    metadata: FakeMetadataServicer
    artifacts: ArtifactServicer
    artifact_root: Path

    def mapping(self) -> dict[str, object]:
        return {METADATA_SERVICE: self.metadata, ARTIFACT_SERVICE: self.artifacts}


@pytest.fixture
def services(tmp_path: Path) -> Services:
    root = tmp_path / "artifacts"
    root.mkdir()
    fake = FakeMetadataServicer()  # type: ignore[abstract]  # unimplemented RPCs answer UNIMPLEMENTED
    return Services(fake, build_servicer(str(root), settings=ArtifactSettings()), root)


def start_grpc_server(servicers: dict[str, object]) -> tuple[grpc.Server, str]:
    """A real gRPC server on a free loopback port, with reflection, serving ``servicers``."""
    server = grpc.server(ThreadPoolExecutor(max_workers=8), interceptors=[ErrorInterceptor()])
    names = [reflection.SERVICE_NAME]
    for name, servicer in servicers.items():
        if name == METADATA_SERVICE:
            add_MetadataServiceServicer_to_server(servicer, server)  # type: ignore[arg-type]
        elif name == ARTIFACT_SERVICE:
            add_ArtifactServiceServicer_to_server(servicer, server)  # type: ignore[arg-type]
        names.append(name)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


Body = Callable[[httpx.AsyncClient, Gateway], Awaitable[None]]


@pytest.fixture(params=["in_process", "remote"])
def deployment_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def gateway_run(services: Services, deployment_mode: str) -> Iterator[Callable[..., None]]:
    """``gateway_run(body, config=None)``: run ``body(client, app)`` against a fresh gateway."""
    servers: list[grpc.Server] = []

    def make_backends() -> GatewayBackends:
        if deployment_mode == "in_process":
            return GatewayBackends.of(InProcessBackend(services.mapping(), max_threads=4))
        metadata_server, metadata_target = start_grpc_server({METADATA_SERVICE: services.metadata})
        artifact_server, artifact_target = start_grpc_server({ARTIFACT_SERVICE: services.artifacts})
        servers.extend([metadata_server, artifact_server])
        return GatewayBackends.of(RemoteBackend([metadata_target]), RemoteBackend([artifact_target]))

    def run(body: Body, config: GatewayConfig | None = None) -> None:
        async def main() -> None:
            app = await create_gateway(make_backends(), config or GatewayConfig())
            try:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:5000") as client:
                    await body(client, app)
            finally:
                await app.close()

        asyncio.run(main())

    yield run
    for server in servers:
        server.stop(None)
