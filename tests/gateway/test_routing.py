"""Path templates, the route matcher, and the route table the protos produce via reflection."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from runstash_gateway import GatewayBackends, GatewayConfig, InProcessBackend, create_gateway
from runstash_gateway.app import Gateway
from runstash_gateway.descriptors import reflect_services
from runstash_gateway.routing import Match, MethodNotAllowed, Router, TemplateError, compile_template
from runstash_protos.errors import ErrorCode


def test_literal_and_templated_routes() -> None:
    router: Router[str] = Router()
    router.add("POST", "/api/2.0/mlflow/logged-models/search", "search")
    router.add("GET", "/api/2.0/mlflow/logged-models/{model_id}", "get")
    router.add("PATCH", "/api/2.0/mlflow/logged-models/{model_id}", "finalize")
    router.add("DELETE", "/api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}", "delete-tag")
    router.add("PUT", "/api/2.0/mlflow-artifacts/artifacts/{path=**}", "upload")

    assert router.match("POST", "/api/2.0/mlflow/logged-models/search") == Match("search", {})
    # the literal path has no GET: the template still serves it
    assert router.match("GET", "/api/2.0/mlflow/logged-models/search") == Match("get", {"model_id": "search"})
    assert router.match("DELETE", "/api/2.0/mlflow/logged-models/m1/tags/a.b") == Match(
        "delete-tag", {"model_id": "m1", "tag_key": "a.b"}
    )
    assert router.match("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a/b.txt") == Match(
        "upload", {"path": "1/r/artifacts/a/b.txt"}
    )


def test_single_segment_variables_do_not_cross_slashes() -> None:
    router: Router[str] = Router()
    router.add("GET", "/x/{id}", "one")
    assert router.match("GET", "/x/a/b") is None
    assert router.match("GET", "/x/") is None


def test_method_not_allowed_lists_the_allowed_methods() -> None:
    router: Router[str] = Router()
    router.add("POST", "/a", "post")
    router.add("GET", "/b/{id}", "get")
    router.add("PATCH", "/b/{id}", "patch")
    assert router.match("GET", "/a") == MethodNotAllowed(("POST",))
    assert router.match("PUT", "/b/1") == MethodNotAllowed(("GET", "PATCH"))
    assert router.match("GET", "/c") is None


def test_more_literal_templates_win() -> None:
    router: Router[str] = Router()
    router.add("GET", "/m/{id=**}", "greedy")
    router.add("GET", "/m/{id}/artifacts/files", "files")
    assert router.match("GET", "/m/7/artifacts/files") == Match("files", {"id": "7"})
    assert router.match("GET", "/m/7/other") == Match("greedy", {"id": "7/other"})


def test_bad_templates_and_duplicates_are_rejected() -> None:
    with pytest.raises(TemplateError):
        compile_template("no/leading/slash")
    with pytest.raises(TemplateError):
        compile_template("/a/{x=a*b}")
    router: Router[str] = Router()
    router.add("GET", "/a", "1")
    with pytest.raises(TemplateError):
        router.add("GET", "/a", "2")


def test_reflection_reads_every_http_binding_of_the_contract() -> None:
    import runstash_protos.metadata_pb2  # noqa: F401 - registers the descriptors reflection serves

    # Reflection needs only the descriptors; the servicer object is never called here.
    backend = InProcessBackend({"runstash.metadata.MetadataService": object()})
    services = asyncio.run(reflect_services(backend))
    assert [s.name for s in services] == ["runstash.metadata.MetadataService"]
    bindings = {(b.http_method, b.template) for m in services[0].methods for b in m.bindings}
    assert ("POST", "/api/2.0/mlflow/runs/log-batch") in bindings
    assert ("POST", "/ajax-api/2.0/mlflow/runs/log-batch") in bindings  # additional binding
    assert ("GET", "/api/2.0/mlflow/experiments/search") in bindings
    assert ("DELETE", "/api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}") in bindings
    assert ("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk") in bindings


def test_route_table_kinds_for_the_artifact_contract() -> None:
    import runstash_protos.artifacts_pb2  # noqa: F401 - registers the descriptors reflection serves

    backends = GatewayBackends.of(InProcessBackend({"runstash.artifacts.ArtifactService": object()}))
    app = Gateway(backends, GatewayConfig())

    async def build() -> None:
        await app.start()
        await app.close()

    asyncio.run(build())
    assert app.router is not None
    kinds = {(method, template): target.handle.__name__ for method, template, target in app.router.routes()}
    assert kinds[("PUT", "/api/2.0/mlflow-artifacts/artifacts/{path=**}")] == "handle_upload"
    assert kinds[("GET", "/api/2.0/mlflow-artifacts/artifacts/{path=**}")] == "handle_download"
    assert kinds[("POST", "/ajax-api/2.0/mlflow/upload-artifact")] == "handle_upload"
    assert kinds[("GET", "/get-artifact")] == "handle_download"
    assert kinds[("GET", "/api/2.0/mlflow-artifacts/artifacts")] == "handle_unary"
    # GetArtifactCapabilities has no rule: found for server-info, never routed
    assert not any("Capabilities" in target.rpc.name for _, _, target in app.router.routes())


def test_server_info_takes_flags_from_the_artifact_service(tmp_path: Path) -> None:
    import httpx
    from runstash_artifacts.roots import ArtifactRoots, open_destination
    from runstash_artifacts.servicer import ArtifactServicer
    from runstash_artifacts.settings import ArtifactSettings
    from runstash_protos import artifacts_pb2 as apb

    class S3LikeArtifacts(ArtifactServicer):
        """The real servicer on a folder, reporting what an S3 destination with the flags would."""

        def GetArtifactCapabilities(self, request: Any, context: Any) -> Any:
            return apb.GetArtifactCapabilities.Response(
                multipart_uploads_enabled=True, multipart_downloads_enabled=False
            )

    servicer = S3LikeArtifacts(ArtifactRoots(open_destination(str(tmp_path))), None, ArtifactSettings())
    backends = GatewayBackends.of(InProcessBackend({"runstash.artifacts.ArtifactService": servicer}))

    async def fetch() -> dict[str, Any]:
        app = await create_gateway(backends, GatewayConfig(multipart_downloads_enabled=True))
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                info: dict[str, Any] = (await client.get("/api/3.0/mlflow/server-info")).json()
                return info
        finally:
            await app.close()

    info = asyncio.run(fetch())
    assert info["multipart_uploads_enabled"] is True
    assert info["multipart_downloads_enabled"] is False  # the service's answer wins over the config


def test_download_failing_mid_stream_drops_the_connection(tmp_path: Path) -> None:
    from runstash_artifacts.roots import ArtifactRoots, open_destination
    from runstash_artifacts.servicer import ArtifactServicer
    from runstash_artifacts.settings import ArtifactSettings
    from runstash_gateway.handlers import StreamBroken
    from runstash_protos import artifacts_pb2 as apb
    from runstash_protos.errors import RunstashError, not_found

    class FlakyDisk(ArtifactServicer):
        """Sends the headers and one chunk, then the storage fails (or the file is missing)."""

        def DownloadArtifact(self, request: Any, context: Any) -> Any:
            if request.path == "missing.bin":
                raise not_found("No such artifact: 'missing.bin'")
            yield apb.DownloadArtifact.Response(headers={"Content-Type": "application/octet-stream"})
            yield apb.DownloadArtifact.Response(data=b"first chunk")
            raise RunstashError(ErrorCode.INTERNAL_ERROR, "disk went away")

    servicer = FlakyDisk(ArtifactRoots(open_destination(str(tmp_path))), None, ArtifactSettings())
    backends = GatewayBackends.of(InProcessBackend({"runstash.artifacts.ArtifactService": servicer}))

    async def download(path: str) -> list[Any]:
        app = await create_gateway(backends, GatewayConfig())
        sent: list[Any] = []

        async def receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": f"/api/2.0/mlflow-artifacts/artifacts/{path}",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1")],
        }
        try:
            await app(scope, receive, send)
        finally:
            await app.close()
        return sent

    with pytest.raises(StreamBroken):  # uvicorn then closes the socket: the client sees a cut body
        asyncio.run(download("flaky.bin"))
    missing = asyncio.run(download("missing.bin"))  # before the first message: a normal JSON error
    assert missing[0]["status"] == 404
    assert b"RESOURCE_DOES_NOT_EXIST" in missing[1]["body"]
