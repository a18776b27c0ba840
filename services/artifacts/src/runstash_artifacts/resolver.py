"""Where a run's or a logged model's artifacts live: asked of the metadata service.

The artifact service knows nothing of SQL; the run- and model-scoped routes (``/get-artifact``,
``artifacts/list``, ``upload-artifact``, logged-model files) need the ``artifact_uri`` the metadata
service recorded. :class:`ArtifactRootResolver` is that one question; the lead wires an
implementation (in-process servicer or gRPC stub) when building the service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import grpc
from runstash_protos import metadata_pb2
from runstash_protos.authz import forwarded_identity
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error


class ArtifactRootResolver(Protocol):
    """Maps ids to artifact root URIs; raises RunstashError (404 for an unknown id)."""

    def run_artifact_uri(self, run_id: str) -> str: ...

    def logged_model_artifact_uri(self, model_id: str) -> str: ...


class NoResolver:
    """For an artifacts-only deployment: the run/model routes answer 501."""

    def run_artifact_uri(self, run_id: str) -> str:
        raise RunstashError(ErrorCode.NOT_IMPLEMENTED, "Run artifact routes need the metadata service")

    def logged_model_artifact_uri(self, model_id: str) -> str:
        raise RunstashError(
            ErrorCode.NOT_IMPLEMENTED, "Logged model artifact routes need the metadata service"
        )


class CallableResolver:
    """A resolver from two plain functions (tests, or any custom wiring)."""

    def __init__(self, run: Callable[[str], str], logged_model: Callable[[str], str]) -> None:
        self._run = run
        self._logged_model = logged_model

    def run_artifact_uri(self, run_id: str) -> str:
        return self._run(run_id)

    def logged_model_artifact_uri(self, model_id: str) -> str:
        return self._logged_model(model_id)


class _NoContext:
    """The minimal context handed to an in-process servicer (servicers must not rely on it)."""

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return True


class MetadataResolver:
    """Calls GetRun / GetLoggedModel on a metadata service object.

    ``service`` is either the metadata servicer itself (in-process: methods take
    ``(request, context)``) or a ``MetadataServiceStub`` over a channel (methods take the request).
    """

    def __init__(self, service: Any, *, in_process: bool, timeout: float = 30.0) -> None:
        self._service = service
        self._in_process = in_process
        self._timeout = timeout

    @classmethod
    def for_servicer(cls, servicer: Any) -> MetadataResolver:
        return cls(servicer, in_process=True)

    @classmethod
    def for_channel(cls, channel: grpc.Channel, timeout: float = 30.0) -> MetadataResolver:
        from runstash_protos.metadata_pb2_grpc import MetadataServiceStub

        return cls(MetadataServiceStub(channel), in_process=False, timeout=timeout)

    def _call(self, method: str, request: Any) -> Any:
        rpc = getattr(self._service, method)
        if self._in_process:
            return rpc(request, _NoContext())
        try:
            # On the caller's behalf (empty with auth off): the metadata service checks them again.
            return rpc(request, timeout=self._timeout, metadata=forwarded_identity())
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    def run_artifact_uri(self, run_id: str) -> str:
        response = self._call("GetRun", metadata_pb2.GetRun(run_id=run_id, run_uuid=run_id))
        return str(response.run.info.artifact_uri)

    def logged_model_artifact_uri(self, model_id: str) -> str:
        response = self._call("GetLoggedModel", metadata_pb2.GetLoggedModel(model_id=model_id))
        return str(response.model.info.artifact_uri)
