"""A small client for training jobs that talks gRPC to the metadata service.

Every call goes through :meth:`Client._call`, the one place where transport failures become
:class:`~runstash_protos.errors.RunstashError`, so callers handle one exception type whether the
server rejected the input or the network failed. Messages are the contract's own protobuf types.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import grpc
from runstash_protos import metadata_pb2 as pb
from runstash_protos import metadata_pb2_grpc
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error

from runstash.batching import MetricBatcher

_Resp = TypeVar("_Resp")
_MAX_MESSAGE = 64 * 1024 * 1024


def now_ms() -> int:
    return int(time.time() * 1000)


class Client:
    """Tracking calls over gRPC: ``Client("127.0.0.1:5001")`` (the `--grpc-port` or `runstash metadata`)."""

    def __init__(self, target: str, *, timeout: float = 60.0) -> None:
        self._channel = grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE),
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ],
        )
        self._stub = metadata_pb2_grpc.MetadataServiceStub(self._channel)
        self._timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: Callable[..., _Resp], request: Any) -> _Resp:
        try:
            return method(request, timeout=self._timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # ------------------------------------------------------------ experiments

    def create_experiment(
        self, name: str, *, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        request = pb.CreateExperiment(
            name=name, tags=[pb.ExperimentTag(key=k, value=v) for k, v in (tags or {}).items()]
        )
        if artifact_location is not None:
            request.artifact_location = artifact_location
        return self._call(self._stub.CreateExperiment, request).experiment_id

    def get_experiment(self, experiment_id: str) -> pb.Experiment:
        return self._call(self._stub.GetExperiment, pb.GetExperiment(experiment_id=experiment_id)).experiment

    def get_experiment_by_name(self, name: str) -> pb.Experiment | None:
        try:
            response = self._call(
                self._stub.GetExperimentByName, pb.GetExperimentByName(experiment_name=name)
            )
        except RunstashError as error:
            if error.code is ErrorCode.RESOURCE_DOES_NOT_EXIST:
                return None
            raise
        return response.experiment

    def set_experiment(self, name: str) -> str:
        """The id of the experiment called ``name``, created if it does not exist yet."""
        experiment = self.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self.create_experiment(name)
        except RunstashError as error:  # another job created it between our two calls
            if error.code is not ErrorCode.RESOURCE_ALREADY_EXISTS:
                raise
            found = self.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    # ------------------------------------------------------------ runs

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        user_id: str = "",
        start_time: int | None = None,
    ) -> pb.Run:
        request = pb.CreateRun(
            experiment_id=experiment_id,
            user_id=user_id,
            start_time=start_time if start_time is not None else now_ms(),
            tags=[pb.RunTag(key=k, value=v) for k, v in (tags or {}).items()],
        )
        if run_name is not None:
            request.run_name = run_name
        return self._call(self._stub.CreateRun, request).run

    def get_run(self, run_id: str) -> pb.Run:
        return self._call(self._stub.GetRun, pb.GetRun(run_id=run_id)).run

    def end_run(self, run_id: str, status: str = "FINISHED", *, end_time: int | None = None) -> pb.RunInfo:
        request = pb.UpdateRun(
            run_id=run_id,
            status=pb.RunStatus.Value(status),
            end_time=end_time if end_time is not None else now_ms(),
        )
        return self._call(self._stub.UpdateRun, request).run_info

    def delete_run(self, run_id: str) -> None:
        self._call(self._stub.DeleteRun, pb.DeleteRun(run_id=run_id))

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        order_by: Sequence[str] = (),
        page_size: int = 1000,
    ) -> Iterator[pb.Run]:
        """Every matching run, fetched page by page as the iterator advances."""
        token: str | None = None
        while True:
            request = pb.SearchRuns(
                experiment_ids=list(experiment_ids),
                filter=filter_string,
                order_by=list(order_by),
                max_results=page_size,
            )
            if token:
                request.page_token = token
            response = self._call(self._stub.SearchRuns, request)
            yield from response.runs
            if not response.HasField("next_page_token"):
                return
            token = response.next_page_token

    # ------------------------------------------------------------ logging

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self._call(self._stub.LogParam, pb.LogParam(run_id=run_id, key=key, value=str(value)))

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._call(self._stub.SetTag, pb.SetTag(run_id=run_id, key=key, value=str(value)))

    def log_metric(
        self, run_id: str, key: str, value: float, *, step: int = 0, timestamp: int | None = None
    ) -> None:
        request = pb.LogMetric(
            run_id=run_id,
            key=key,
            value=float(value),
            step=step,
            timestamp=timestamp if timestamp is not None else now_ms(),
        )
        self._call(self._stub.LogMetric, request)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[pb.Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        request = pb.LogBatch(
            run_id=run_id,
            metrics=list(metrics),
            params=[pb.Param(key=k, value=str(v)) for k, v in (params or {}).items()],
            tags=[pb.RunTag(key=k, value=str(v)) for k, v in (tags or {}).items()],
        )
        self._call(self._stub.LogBatch, request)

    def metric_batcher(self, run_id: str, *, max_points: int = 1000, max_delay: float = 1.0) -> MetricBatcher:
        """A background batcher: ``log()`` returns at once, points go out in log-batch calls."""
        return MetricBatcher(
            lambda points: self.log_batch(run_id, metrics=points), max_points=max_points, max_delay=max_delay
        )

    def get_metric_history(self, run_id: str, key: str, *, page_size: int = 25000) -> list[pb.Metric]:
        points: list[pb.Metric] = []
        token: str | None = None
        while True:
            request = pb.GetMetricHistory(run_id=run_id, metric_key=key, max_results=page_size)
            if token:
                request.page_token = token
            response = self._call(self._stub.GetMetricHistory, request)
            points.extend(response.metrics)
            if not response.HasField("next_page_token"):
                return points
            token = response.next_page_token
