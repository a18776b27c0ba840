"""``/model-versions/get-artifact``: one file of a registered model version.

The registry answers where the version's files are (its download URI, checked when the version
was created); this service reads the file there through the same trusted roots and path rules as
every other download, so a version can never expose a file outside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from runstash_protos import artifacts_pb2, registry_pb2, registry_pb2_grpc
from runstash_protos.authz import Authority, guard_servicer
from runstash_protos.errors import invalid_parameter

from runstash_artifacts.paths import parse_artifact_path
from runstash_artifacts.servicer import ArtifactServicer

SERVICE_NAME: str = registry_pb2.DESCRIPTOR.services_by_name["ModelVersionArtifactService"].full_name

DownloadUri = Callable[[str, str], str]  # (model name, version) -> download URI


def _missing(name: str) -> Exception:
    return invalid_parameter(
        f"Missing value for required parameter '{name}'. "
        "See the API docs for more information about request parameters."
    )


class ModelVersionArtifactServicer(registry_pb2_grpc.ModelVersionArtifactServiceServicer):
    def __init__(self, artifacts: ArtifactServicer, download_uri: DownloadUri) -> None:
        self._artifacts = artifacts
        self._download_uri = download_uri

    def GetModelVersionArtifact(
        self, request: registry_pb2.GetModelVersionArtifact, context: Any
    ) -> Iterator[artifacts_pb2.DownloadArtifact.Response]:
        for field in ("name", "version", "path"):
            if not getattr(request, field):
                raise _missing(field)
        path = parse_artifact_path(request.path)
        root = self._download_uri(request.name, request.version)
        if root.startswith("runs:/"):
            run_id, _, sub = root.removeprefix("runs:/").lstrip("/").partition("/")
            root = self._artifacts.run_root(run_id)
            if sub:
                path = parse_artifact_path(sub).join(path)
        yield from self._artifacts.stream_file(root, path)


def registry_download_uri(registry: Any, *, in_process: bool, timeout: float = 30.0) -> DownloadUri:
    """A download-URI lookup on the registry servicer (in process) or a stub over a channel."""
    from runstash_protos.authz import forwarded_identity
    from runstash_protos.errors import from_rpc_error

    def lookup(name: str, version: str) -> str:
        request = registry_pb2.GetModelVersionDownloadUri(name=name, version=version)
        if in_process:
            return str(registry.GetModelVersionDownloadUri(request, None).artifact_uri)
        import grpc

        try:
            # On the caller's behalf: with auth on, the registry decides on their identity (and the
            # gateway's service credential vouching for it), as it did for this service's guard.
            metadata = forwarded_identity()
            call = registry.GetModelVersionDownloadUri
            return str(call(request, timeout=timeout, metadata=metadata).artifact_uri)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    return lookup


def model_version_registration(
    artifacts: ArtifactServicer, download_uri: DownloadUri, authority: Authority | None = None
) -> Any:
    """``(service name, adder)`` for :func:`runstash_protos.rpc.service_server`, behind the
    service's declared permissions."""
    servicer: Any = guard_servicer(
        ModelVersionArtifactServicer(artifacts, download_uri),
        registry_pb2.DESCRIPTOR.services_by_name["ModelVersionArtifactService"],
        authority,
    )
    return SERVICE_NAME, lambda server: registry_pb2_grpc.add_ModelVersionArtifactServiceServicer_to_server(
        servicer, server
    )


def in_process_model_version_files(
    artifacts: ArtifactServicer, registry: Any
) -> ModelVersionArtifactServicer:
    """For the all-in-one server: the registry servicer is in this process."""
    return ModelVersionArtifactServicer(artifacts, registry_download_uri(registry, in_process=True))


def remote_model_version_files(
    metadata_address: str, authority: Authority | None = None
) -> Callable[[ArtifactServicer], list[Any]]:
    """For ``runstash artifacts --metadata``: the registry is asked over the metadata channel."""
    import grpc

    channel = grpc.insecure_channel(metadata_address)

    def registrations(artifacts: ArtifactServicer) -> list[Any]:
        lookup = registry_download_uri(registry_pb2_grpc.ModelRegistryServiceStub(channel), in_process=False)
        return [model_version_registration(artifacts, lookup, authority)]

    return registrations
