"""The ``runstash://`` tracking store: mlflow's REST store, with gRPC underneath.

mlflow's ``RestStore`` turns every tracking call into a request message and one
``_call_endpoint``; this store keeps all of that (so entities, paging and errors are exactly what
the stock client makes of the REST answers) and replaces only the transport: the message goes to
the metadata service's RPC of the same name through the client's one retrying funnel, and the
answer comes back as mlflow's response message. Asynchronous logging
(``MLFLOW_ENABLE_ASYNC_LOGGING`` or ``synchronous=False``) goes to the ingest stream instead of
mlflow's own queue.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from mlflow.exceptions import MlflowException, RestException
from mlflow.protos.databricks_pb2 import ENDPOINT_NOT_FOUND
from mlflow.store.tracking.rest_store import RestStore
from mlflow.utils.async_logging.run_operations import RunOperations
from mlflow.utils.proto_json_utils import parse_dict
from mlflow.utils.rest_utils import MlflowHostCreds
from runstash_protos import metadata_pb2 as pb
from runstash_protos import metadata_pb2_grpc
from runstash_protos.errors import RunstashError

from runstash.connection import Endpoint, call
from runstash.ingest import AsyncLogger
from runstash.mlflow_plugin import routes

PRESENT_EMPTY_KEY = "x-runstash-present-empty"
# Non-idempotent creations are not retried after a deadline (the first try may have landed).
_NOT_RETRIED = frozenset({"CreateExperiment", "CreateRun", "CreateLoggedModel"})


def to_mlflow_error(error: RunstashError) -> MlflowException:
    """The exception the stock client raises for the same error over REST."""
    return RestException({"error_code": error.code.value, "message": error.message})


class RunstashTrackingStore(RestStore):  # type: ignore[misc]
    """Tracking store for ``runstash://host:port`` (see the README for the environment settings)."""

    def __init__(self, store_uri: str, artifact_uri: str | None = None) -> None:
        self.endpoint = Endpoint.from_uri(store_uri)
        creds = MlflowHostCreds(f"http://{self.endpoint.metadata_target}")
        super().__init__(lambda: creds)
        self._channel = self.endpoint.channel(self.endpoint.metadata_target)
        self._stub = metadata_pb2_grpc.MetadataServiceStub(self._channel)
        self._logger: AsyncLogger | None = None
        self._logger_lock = threading.Lock()

    # ------------------------------------------------------------------ unary calls

    def _call_endpoint(
        self,
        api: Any,
        json_body: str | None = None,
        endpoint: str | None = None,
        retry_timeout_seconds: float | None = None,
        response_proto: Any = None,
    ) -> Any:
        name = routes.rpc_name(api.__name__)
        if name is None:
            raise MlflowException(
                f"{api.__name__} is not served over gRPC by runstash", error_code=ENDPOINT_NOT_FOUND
            )
        body: dict[str, Any] = json.loads(json_body) if json_body else {}
        request = routes.build_request(name, body, endpoint)
        empty = [key for key, value in body.items() if value == []]
        extra = [(PRESENT_EMPTY_KEY, ",".join(empty))] if empty else []
        try:
            response = call(
                self.endpoint,
                getattr(self._stub, name),
                request,
                extra_metadata=extra,
                retry=name not in _NOT_RETRIED,
            )
        except RunstashError as error:
            raise to_mlflow_error(error) from None
        result = response_proto if response_proto is not None else api.Response()
        as_dict = json_format.MessageToDict(response, preserving_proto_field_name=True)
        parse_dict(js_dict=as_dict, message=result)
        return result

    # ------------------------------------------------------------------ asynchronous logging

    def _async_logger(self) -> AsyncLogger:
        with self._logger_lock:
            if self._logger is None:
                self._logger = AsyncLogger(
                    self.endpoint,
                    spool_dir=Path(os.environ.get("RUNSTASH_SPOOL_DIR", "runstash-spool")),
                    offline_after=float(os.environ.get("RUNSTASH_OFFLINE_AFTER_SECONDS", "10")),
                )
            return self._logger

    def log_batch_async(self, run_id: str, metrics: Any, params: Any, tags: Any) -> RunOperations:
        future = self._async_logger().log_batch(
            run_id,
            metrics=[_metric(m) for m in metrics],
            params=[pb.Param(key=p.key, value=str(p.value)) for p in params],
            tags=[pb.RunTag(key=t.key, value=str(t.value)) for t in tags],
        )
        return RunOperations([future])

    def log_metric_async(self, run_id: str, metric: Any) -> RunOperations:
        return self.log_batch_async(run_id, [metric], [], [])

    def log_param_async(self, run_id: str, param: Any) -> RunOperations:
        return self.log_batch_async(run_id, [], [param], [])

    def set_tag_async(self, run_id: str, tag: Any) -> RunOperations:
        return self.log_batch_async(run_id, [], [], [tag])

    def flush_async_logging(self) -> None:
        if self._logger is not None:
            try:
                self._logger.flush()
            except RunstashError as error:
                raise to_mlflow_error(error) from None

    def end_async_logging(self) -> None:
        self.flush_async_logging()

    def shut_down_async_logging(self) -> None:
        self.flush_async_logging()


def _metric(metric: Any) -> pb.Metric:
    point = pb.Metric(
        key=metric.key, value=float(metric.value), timestamp=metric.timestamp, step=metric.step or 0
    )
    for field in ("model_id", "dataset_name", "dataset_digest"):
        value = getattr(metric, field, None)
        if value:
            setattr(point, field, value)
    return point
