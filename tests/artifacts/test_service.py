"""The artifact service over real gRPC: the mlflow-artifacts proxy, run / logged-model routes,
headers, error codes, path safety on every route, health and reflection."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from runstash_artifacts.server import RunningServer
from runstash_protos import artifacts_pb2 as pb
from runstash_protos.artifacts_pb2_grpc import ArtifactServiceStub
from runstash_protos.errors import ErrorCode, RunstashError, from_rpc_error

from .conftest import Catalog, ServerFactory, s3_env
from .test_paths import UNSAFE

CHUNK = 1024 * 1024


def upload_messages(path: str, data: bytes, chunk: int = CHUNK) -> Iterator[pb.UploadArtifact]:
    """What the gateway sends: path + first chunk, then chunks only."""
    yield pb.UploadArtifact(path=path, data=data[:chunk])
    for start in range(chunk, len(data), chunk):
        yield pb.UploadArtifact(data=data[start : start + chunk])


def upload(stub: ArtifactServiceStub, path: str, data: bytes) -> None:
    stub.UploadArtifact(upload_messages(path, data), timeout=60)


def download(responses: Iterator[pb.DownloadArtifact.Response]) -> tuple[dict[str, str], bytes]:
    messages = iter(responses)
    first = next(messages)
    assert not first.HasField("data"), "the first message carries headers only"
    return dict(first.headers), b"".join(m.data for m in messages)


def error_of(call: Callable[[], Any]) -> RunstashError:
    """The domain error a gRPC call failed with (streams are drained so they fail too)."""
    try:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    except grpc.RpcError as exc:
        return from_rpc_error(exc)
    raise AssertionError("the call succeeded")


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


@pytest.fixture
def local_server(artifact_dir: Path, artifact_server: ServerFactory, catalog: Catalog) -> RunningServer:
    return artifact_server(str(artifact_dir), catalog)


@pytest.fixture
def stub(local_server: RunningServer, stub_for: Callable[[RunningServer], ArtifactServiceStub]) -> Any:
    return stub_for(local_server)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def any_stub(
    request: pytest.FixtureRequest,
    artifact_server: ServerFactory,
    catalog: Catalog,
    stub_for: Callable[[RunningServer], ArtifactServiceStub],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    if request.param == "local":
        return stub_for(artifact_server(str(request.getfixturevalue("artifact_dir")), catalog))
    endpoint = request.getfixturevalue("s3_endpoint")
    s3_env(monkeypatch, endpoint)
    prefix = request.getfixturevalue("s3_prefix")
    return stub_for(artifact_server(endpoint.destination(prefix), catalog))


# ------------------------------------------------------------------ mlflow-artifacts proxy


def test_upload_list_download_delete_round_trip(any_stub: Any) -> None:
    files = {
        "1/run1/artifacts/model/MLmodel": b"flavors: {}\n",
        "1/run1/artifacts/model/model.pkl": os.urandom(3 * CHUNK + 17),
        "1/run1/artifacts/empty.txt": b"",
        "1/run1/artifacts/tree/sub/deeper/c.bin": bytes(range(256)),
    }
    for path, data in files.items():
        upload(any_stub, path, data)

    listing = any_stub.ListArtifacts(pb.ListArtifacts(path="1/run1/artifacts"))
    assert [(f.path, f.is_dir, f.HasField("file_size")) for f in listing.files] == [
        ("empty.txt", False, False),  # MLflow omits file_size 0
        ("model", True, False),
        ("tree", True, False),
    ]
    model = any_stub.ListArtifacts(pb.ListArtifacts(path="1/run1/artifacts/model"))
    assert [(f.path, f.file_size) for f in model.files] == [("MLmodel", 12), ("model.pkl", 3 * CHUNK + 17)]
    root = any_stub.ListArtifacts(pb.ListArtifacts())
    assert [f.path for f in root.files] == ["1"]
    # A file path or a missing path lists nothing: the JSON is {}.
    assert not any_stub.ListArtifacts(pb.ListArtifacts(path="1/run1/artifacts/empty.txt")).files
    assert not any_stub.ListArtifacts(pb.ListArtifacts(path="nope")).files

    for path, data in files.items():
        headers, body = download(any_stub.DownloadArtifact(pb.DownloadArtifact(path=path)))
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
        assert headers["Content-Length"] == str(len(data))

    any_stub.DeleteArtifact(pb.DeleteArtifact(path="1/run1/artifacts/model"))
    listing = any_stub.ListArtifacts(pb.ListArtifacts(path="1/run1/artifacts"))
    assert [f.path for f in listing.files] == ["empty.txt", "tree"]
    error = error_of(
        lambda: any_stub.DownloadArtifact(pb.DownloadArtifact(path="1/run1/artifacts/model/MLmodel"))
    )
    assert error.code is ErrorCode.RESOURCE_DOES_NOT_EXIST


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("MLmodel", "text/plain"),
        ("conda.yaml", "text/plain"),
        ("requirements.txt", "text/plain"),
        ("conf.json", "text/plain"),  # observed: the real server serves .json as text/plain
        ("train.log", "text/plain"),
        ("plot.png", "image/png"),
        ("estimator.html", "text/html"),
        ("model.pkl", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
def test_download_headers(stub: Any, name: str, content_type: str) -> None:
    upload(stub, f"0/r/artifacts/{name}", b"content")
    headers, body = download(stub.DownloadArtifact(pb.DownloadArtifact(path=f"0/r/artifacts/{name}")))
    assert body == b"content"
    assert headers == {
        "Content-Type": content_type,
        "Content-Disposition": f"attachment; filename={name}",  # tokens go bare, as MLflow sends them
        "Content-Length": "7",
        "X-Content-Type-Options": "nosniff",
    }


def test_non_ascii_file_name_gets_an_rfc5987_disposition(stub: Any) -> None:
    upload(stub, "0/r/artifacts/résumé.txt", b"x")
    headers, _ = download(stub.DownloadArtifact(pb.DownloadArtifact(path="0/r/artifacts/résumé.txt")))
    assert headers["Content-Disposition"] == (
        "attachment; filename=resume.txt; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
    )


def test_proxy_errors(stub: Any) -> None:
    upload(stub, "0/r/artifacts/dir/file.txt", b"x")
    missing = error_of(lambda: stub.DownloadArtifact(pb.DownloadArtifact(path="0/r/artifacts/model")))
    assert (missing.code, missing.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        "No such artifact: '0/r/artifacts/model'",
    )
    directory = error_of(lambda: stub.DownloadArtifact(pb.DownloadArtifact(path="0/r/artifacts/dir")))
    assert (directory.code, directory.message) == (
        ErrorCode.INVALID_PARAMETER_VALUE,
        "Artifact path refers to a directory, not a file: '0/r/artifacts/dir'",
    )
    trailing = error_of(lambda: stub.UploadArtifact(upload_messages("0/r/artifacts/dir/", b"x")))
    assert (trailing.code, trailing.message) == (
        ErrorCode.INVALID_PARAMETER_VALUE,
        "Artifact path must include a filename (cannot end with '/').",
    )
    no_path = error_of(lambda: stub.UploadArtifact(iter([pb.UploadArtifact(data=b"x")])))
    assert no_path.code is ErrorCode.INVALID_PARAMETER_VALUE
    mpu = error_of(
        lambda: stub.CreateMultipartUpload(pb.CreateMultipartUpload(artifact_path="0", path="f", num_parts=1))
    )
    assert (mpu.code, mpu.message) == (
        ErrorCode.NOT_IMPLEMENTED,
        "Multipart upload is not supported for the current artifact repository",
    )
    mpu_no_path = error_of(lambda: stub.CreateMultipartUpload(pb.CreateMultipartUpload(artifact_path="0")))
    assert mpu_no_path.code is ErrorCode.INVALID_PARAMETER_VALUE
    presigned = error_of(lambda: stub.GetPresignedDownloadUrl(pb.GetPresignedDownloadUrl(path="0/r/x")))
    assert (presigned.code, presigned.message) == (
        ErrorCode.NOT_IMPLEMENTED,
        "Multipart download is not supported for the current artifact repository",
    )


def test_empty_upload_creates_an_empty_file(stub: Any, artifact_dir: Path) -> None:
    stub.UploadArtifact(iter([pb.UploadArtifact(path="0/r/artifacts/empty.bin")]))
    assert (artifact_dir / "0/r/artifacts/empty.bin").read_bytes() == b""
    headers, body = download(stub.DownloadArtifact(pb.DownloadArtifact(path="0/r/artifacts/empty.bin")))
    assert (headers["Content-Length"], body) == ("0", b"")


# ------------------------------------------------------------------ path safety on every route


def _every_route(stub: Any, bad: str) -> dict[str, Callable[[], Any]]:
    return {
        "upload": lambda: stub.UploadArtifact(upload_messages(bad, b"pwned")),
        "upload-dir": lambda: stub.UploadArtifact(upload_messages(f"{bad}/x.txt", b"pwned")),
        "download": lambda: stub.DownloadArtifact(pb.DownloadArtifact(path=bad)),
        "list": lambda: stub.ListArtifacts(pb.ListArtifacts(path=bad)),
        "delete": lambda: stub.DeleteArtifact(pb.DeleteArtifact(path=bad)),
        "mpu-create": lambda: stub.CreateMultipartUpload(
            pb.CreateMultipartUpload(artifact_path=bad, path="f.bin", num_parts=1)
        ),
        "mpu-complete": lambda: stub.CompleteMultipartUpload(
            pb.CompleteMultipartUpload(
                artifact_path=bad, path="f.bin", upload_id="u", parts=[pb.MultipartUploadPart(part_number=1)]
            )
        ),
        "mpu-abort": lambda: stub.AbortMultipartUpload(
            pb.AbortMultipartUpload(artifact_path=bad, path="f.bin", upload_id="u")
        ),
        "presigned": lambda: stub.GetPresignedDownloadUrl(pb.GetPresignedDownloadUrl(path=bad)),
        "get-artifact": lambda: stub.GetRunArtifact(pb.GetRunArtifact(run_id="run1", path=bad)),
        "run-list": lambda: stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="run1", path=bad)),
        "run-upload": lambda: stub.UploadRunArtifact(
            iter([pb.UploadRunArtifact(run_uuid="run1", path=bad, data=b"pwned")])
        ),
        "model-list": lambda: stub.ListLoggedModelArtifacts(
            pb.ListLoggedModelArtifacts(model_id="m-1", artifact_directory_path=bad)
        ),
        "model-file": lambda: stub.GetLoggedModelArtifact(
            pb.GetLoggedModelArtifact(model_id="m-1", artifact_file_path=bad)
        ),
    }


def test_unsafe_paths_are_refused_on_every_route_and_touch_nothing(stub: Any, artifact_dir: Path) -> None:
    upload(stub, "1/run1/artifacts/keep.txt", b"keep")
    upload(stub, "1/models/m-1/artifacts/MLmodel", b"model")
    outside = artifact_dir.parent / "outside"
    before_root, before_outside = snapshot(artifact_dir), snapshot(outside)
    failures = []
    for bad in UNSAFE:
        for route, call in _every_route(stub, bad).items():
            error = error_of(call)
            if (error.code, error.message) != (ErrorCode.INVALID_PARAMETER_VALUE, "Invalid path"):
                failures.append((route, bad, error))
    assert failures == []
    assert snapshot(artifact_dir) == before_root
    assert snapshot(outside) == before_outside
    assert sorted(os.listdir(artifact_dir.parent)) == ["outside", "root"]


def test_multipart_file_name_in_body_is_checked_too(stub: Any) -> None:
    for bad in ("..", "a/..", "C:\\x\\..", "%2e%2e", "a#b"):
        request = pb.CreateMultipartUpload(artifact_path="1/r/artifacts", path=bad, num_parts=1)
        error = error_of(functools.partial(stub.CreateMultipartUpload, request))
        assert (error.code, error.message) == (ErrorCode.INVALID_PARAMETER_VALUE, "Invalid path"), bad


# ------------------------------------------------------------------ run and logged-model routes


def test_run_routes_are_scoped_to_the_run_root(stub: Any) -> None:
    upload(stub, "1/run1/artifacts/tree/a.json", b'{"a": 1}')
    upload(stub, "1/run1/artifacts/tree/sub/b.csv", b"x,y\n")
    upload(stub, "1/run1/artifacts/single.txt", b"hello\n")
    upload(stub, "1/run2/artifacts/theirs.txt", b"theirs")

    headers, body = download(stub.GetRunArtifact(pb.GetRunArtifact(run_id="run1", path="tree/a.json")))
    assert body == b'{"a": 1}'
    assert headers["Content-Disposition"] == "attachment; filename=a.json"
    _, body = download(stub.GetRunArtifact(pb.GetRunArtifact(run_uuid="run1", path="single.txt")))
    assert body == b"hello\n"

    top = stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="run1"))
    assert top.root_uri == "mlflow-artifacts:/1/run1/artifacts"
    assert [(f.path, f.is_dir) for f in top.files] == [("single.txt", False), ("tree", True)]
    tree = stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="run1", path="tree"))
    assert [(f.path, f.is_dir) for f in tree.files] == [("tree/a.json", False), ("tree/sub", True)]
    empty = stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="run1", path="nothing-here"))
    assert empty.root_uri == "mlflow-artifacts:/1/run1/artifacts"
    assert not empty.files

    other = error_of(lambda: stub.GetRunArtifact(pb.GetRunArtifact(run_id="run1", path="theirs.txt")))
    assert (other.code, other.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        "No such artifact: '1/run1/artifacts/theirs.txt'",  # the resolved path, as MLflow words it
    )
    unknown = error_of(lambda: stub.GetRunArtifact(pb.GetRunArtifact(run_id="nope", path="a")))
    assert (unknown.code, unknown.message) == (
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        "Run with id=nope not found",
    )
    no_run = error_of(lambda: stub.ListRunArtifacts(pb.ListRunArtifacts(path="a")))
    assert no_run.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert no_run.message.startswith("Missing value for required parameter 'run_id'")
    no_path = error_of(lambda: stub.GetRunArtifact(pb.GetRunArtifact(run_id="run1")))
    assert no_path.message.startswith("Missing value for required parameter 'path'")


def test_ui_upload_writes_under_the_run_root_within_limits(stub: Any, artifact_dir: Path) -> None:
    def ui_upload(path: str, data: bytes, run: str = "run1") -> None:
        first = pb.UploadRunArtifact(run_uuid=run, path=path, data=data[:CHUNK])
        rest = [pb.UploadRunArtifact(data=data[i : i + CHUNK]) for i in range(CHUNK, len(data), CHUNK)]
        stub.UploadRunArtifact(iter([first, *rest]))

    ui_upload("notes/n.txt", b"from the UI")
    assert (artifact_dir / "1/run1/artifacts/notes/n.txt").read_bytes() == b"from the UI"
    ui_upload("big.bin", b"\x01" * (10 * 1024 * 1024))  # exactly the limit is fine
    assert (artifact_dir / "1/run1/artifacts/big.bin").stat().st_size == 10 * 1024 * 1024

    too_big = error_of(lambda: ui_upload("huge.bin", b"\x01" * (10 * 1024 * 1024 + 1)))
    assert (too_big.code, too_big.message) == (
        ErrorCode.INVALID_PARAMETER_VALUE,
        "Artifact size is too large. Max size is 10MB.",
    )
    empty = error_of(lambda: ui_upload("empty.bin", b""))
    assert (empty.code, empty.message) == (ErrorCode.INVALID_PARAMETER_VALUE, "Request must specify data.")
    no_run = error_of(lambda: ui_upload("x.txt", b"x", run=""))
    assert no_run.message == "Request must specify run_uuid."
    assert sorted(os.listdir(artifact_dir / "1/run1/artifacts")) == ["big.bin", "notes"]


def test_logged_model_routes(stub: Any) -> None:
    upload(stub, "1/models/m-1/artifacts/MLmodel", b"flavors: {}")
    upload(stub, "1/models/m-1/artifacts/sub/model.pkl", b"\x80\x04")
    listing = stub.ListLoggedModelArtifacts(pb.ListLoggedModelArtifacts(model_id="m-1"))
    assert listing.root_uri == "mlflow-artifacts:/1/models/m-1/artifacts"
    assert [(f.path, f.is_dir) for f in listing.files] == [("MLmodel", False), ("sub", True)]
    sub = stub.ListLoggedModelArtifacts(
        pb.ListLoggedModelArtifacts(model_id="m-1", artifact_directory_path="sub")
    )
    assert [(f.path, f.file_size) for f in sub.files] == [("sub/model.pkl", 2)]
    headers, body = download(
        stub.GetLoggedModelArtifact(pb.GetLoggedModelArtifact(model_id="m-1", artifact_file_path="MLmodel"))
    )
    assert (headers["Content-Type"], body) == ("text/plain", b"flavors: {}")
    missing_param = error_of(lambda: stub.GetLoggedModelArtifact(pb.GetLoggedModelArtifact(model_id="m-1")))
    assert (missing_param.code, missing_param.message) == (
        ErrorCode.BAD_REQUEST,
        'Request must include the "artifact_file_path" query parameter.',
    )
    unknown = error_of(lambda: stub.ListLoggedModelArtifacts(pb.ListLoggedModelArtifacts(model_id="m-9")))
    assert unknown.code is ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_run_roots_outside_the_proxy(
    tmp_path: Path, artifact_dir: Path, artifact_server: ServerFactory, stub_for: Any, catalog: Catalog
) -> None:
    """--no-serve-artifacts style roots (a local path, file://) under a trusted local root are read
    through their own backend; any other local root, a traversal in a stored URI or an unknown
    scheme is refused."""
    legacy = tmp_path / "mlruns" / "0" / "old" / "artifacts"
    legacy.mkdir(parents=True)
    (legacy / "m.txt").write_text("legacy")
    elsewhere = tmp_path / "host-dir" / "run" / "artifacts"
    elsewhere.mkdir(parents=True)
    (elsewhere / "secret.txt").write_text("host file")
    catalog.runs.update(
        {
            "old": str(legacy),
            "old-uri": legacy.as_uri(),
            "client-chosen": str(elsewhere),
            "evil": "mlflow-artifacts:/1/../../outside",
            "gcs": "gs://bucket/x",
        }
    )
    server = artifact_server(str(artifact_dir), catalog, trusted_roots=(str(tmp_path / "mlruns"),))
    stub = stub_for(server)
    for run in ("old", "old-uri"):
        _, body = download(stub.GetRunArtifact(pb.GetRunArtifact(run_id=run, path="m.txt")))
        assert body == b"legacy"
        listing = stub.ListRunArtifacts(pb.ListRunArtifacts(run_id=run))
        assert [f.path for f in listing.files] == ["m.txt"]
    for refused in (
        lambda: stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="client-chosen")),
        lambda: download(stub.GetRunArtifact(pb.GetRunArtifact(run_id="client-chosen", path="secret.txt"))),
        lambda: stub.UploadRunArtifact(
            iter([pb.UploadRunArtifact(run_uuid="client-chosen", path="w.txt", data=b"w")])
        ),
    ):
        error = error_of(refused)
        assert error.code is ErrorCode.INVALID_PARAMETER_VALUE
        assert "outside this server's artifact roots" in error.message
    assert sorted(os.listdir(elsewhere)) == ["secret.txt"]
    evil = error_of(lambda: stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="evil")))
    assert (evil.code, evil.message) == (ErrorCode.INVALID_PARAMETER_VALUE, "Invalid path")
    gcs = error_of(lambda: stub.ListRunArtifacts(pb.ListRunArtifacts(run_id="gcs")))
    assert gcs.code is ErrorCode.NOT_IMPLEMENTED


# ------------------------------------------------------------------ capabilities, health, reflection


@pytest.mark.s3
def test_capabilities_tell_the_truth(
    artifact_dir: Path,
    artifact_server: ServerFactory,
    stub_for: Any,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enabled = {"multipart_upload_enabled": True, "multipart_download_enabled": True}
    local = stub_for(artifact_server(str(artifact_dir), None, **enabled))
    caps = local.GetArtifactCapabilities(pb.GetArtifactCapabilities())
    assert (caps.multipart_uploads_enabled, caps.multipart_downloads_enabled, caps.storage_kind) == (
        False,
        False,
        "local",
    )
    endpoint = request.getfixturevalue("s3_endpoint")
    s3_env(monkeypatch, endpoint)
    s3_on = stub_for(artifact_server(endpoint.destination("caps"), None, **enabled))
    caps = s3_on.GetArtifactCapabilities(pb.GetArtifactCapabilities())
    assert (caps.multipart_uploads_enabled, caps.multipart_downloads_enabled, caps.storage_kind) == (
        True,
        True,
        "s3",
    )
    s3_off = stub_for(artifact_server(endpoint.destination("caps"), None))
    caps = s3_off.GetArtifactCapabilities(pb.GetArtifactCapabilities())
    assert (caps.multipart_uploads_enabled, caps.multipart_downloads_enabled) == (False, False)


def test_health_and_reflection_expose_the_http_rules(local_server: RunningServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{local_server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "runstash.artifacts.ArtifactService"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
        [listed] = reflect.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = {s.name for s in listed.list_services_response.service}
        assert "runstash.artifacts.ArtifactService" in names
        [found] = reflect.ServerReflectionInfo(
            iter(
                [
                    reflection_pb2.ServerReflectionRequest(
                        file_containing_symbol="runstash.artifacts.ArtifactService"
                    )
                ]
            )
        )
        blobs = found.file_descriptor_response.file_descriptor_proto
        assert any(b"/api/2.0/mlflow-artifacts/artifacts/{path=**}" in blob for blob in blobs)


def test_concurrent_streams_through_one_server(any_stub: Any) -> None:
    """Parallel uploads and downloads on one server each get their own bytes back."""
    payloads = {f"c/file-{i}.bin": os.urandom(2 * CHUNK + 1000 * i) for i in range(8)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item: upload(any_stub, *item), payloads.items()))
        downloads = pool.map(
            lambda path: download(any_stub.DownloadArtifact(pb.DownloadArtifact(path=path)))[1], payloads
        )
        assert list(downloads) == list(payloads.values())
    listing = any_stub.ListArtifacts(pb.ListArtifacts(path="c"))
    assert [(f.path, f.file_size) for f in listing.files] == [(p[2:], len(d)) for p, d in payloads.items()]
