"""The client-driven multipart protocol and presigned downloads on SeaweedFS: the presigned URLs
are used with plain urllib, as the mlflow client uses them, against an S3 server that checks
signatures."""

from __future__ import annotations

import functools
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from runstash_artifacts.server import RunningServer
from runstash_protos import artifacts_pb2 as pb
from runstash_protos.artifacts_pb2_grpc import ArtifactServiceStub
from runstash_protos.errors import ErrorCode

from .conftest import Catalog, ServerFactory, s3_env
from .test_service import download, error_of

pytestmark = pytest.mark.s3

PART = 5 * 1024 * 1024


@pytest.fixture
def s3_stub(
    s3_endpoint: Any,
    s3_prefix: str,
    artifact_server: ServerFactory,
    stub_for: Callable[[RunningServer], ArtifactServiceStub],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    s3_env(monkeypatch, s3_endpoint)
    return stub_for(artifact_server(s3_endpoint.destination(s3_prefix), None, multipart_upload_enabled=True))


def put(url: str, data: bytes) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="PUT"), timeout=30) as resp:
        assert resp.status == 200
        return str(resp.headers["ETag"])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as resp:
        return resp.status, resp.read(), resp.headers


def test_multipart_upload_with_presigned_part_urls(s3_stub: Any) -> None:
    data = os.urandom(2 * PART + 1024 * 1024)  # 11 MiB, as in the recorded exchange
    created = s3_stub.CreateMultipartUpload(
        pb.CreateMultipartUpload(artifact_path="1/run/artifacts", path="big.bin", num_parts=3)
    )
    assert created.upload_id
    assert [c.part_number for c in created.credentials] == [1, 2, 3]
    assert all("X-Amz-Signature=" in c.url and "partNumber=" in c.url for c in created.credentials)
    parts = [
        pb.MultipartUploadPart(
            part_number=c.part_number, etag=put(c.url, data[i * PART : (i + 1) * PART]), url=c.url
        )
        for i, c in enumerate(created.credentials)
    ]
    # Nothing is visible before complete.
    assert not s3_stub.ListArtifacts(pb.ListArtifacts(path="1/run/artifacts")).files

    s3_stub.CompleteMultipartUpload(
        pb.CompleteMultipartUpload(
            artifact_path="1/run/artifacts", path="big.bin", upload_id=created.upload_id, parts=parts[::-1]
        )
    )
    listing = s3_stub.ListArtifacts(pb.ListArtifacts(path="1/run/artifacts"))
    assert [(f.path, f.file_size) for f in listing.files] == [("big.bin", len(data))]
    _, body = download(s3_stub.DownloadArtifact(pb.DownloadArtifact(path="1/run/artifacts/big.bin")))
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


def test_pre_318_clients_full_local_path_names_the_file(s3_stub: Any) -> None:
    created = s3_stub.CreateMultipartUpload(
        pb.CreateMultipartUpload(
            artifact_path="1/run/artifacts/sub", path="C:\\Users\\me\\small.txt", num_parts=1
        )
    )
    etag = put(created.credentials[0].url, b"tiny")
    s3_stub.CompleteMultipartUpload(
        pb.CompleteMultipartUpload(
            artifact_path="1/run/artifacts/sub",
            path="small.txt",
            upload_id=created.upload_id,
            parts=[pb.MultipartUploadPart(part_number=1, etag=etag)],
        )
    )
    _, body = download(s3_stub.DownloadArtifact(pb.DownloadArtifact(path="1/run/artifacts/sub/small.txt")))
    assert body == b"tiny"


def test_abort_discards_the_upload(s3_stub: Any, s3_endpoint: Any, s3_prefix: str) -> None:
    created = s3_stub.CreateMultipartUpload(
        pb.CreateMultipartUpload(artifact_path="1/run/artifacts", path="gone.bin", num_parts=2)
    )
    put(created.credentials[0].url, os.urandom(PART))
    s3_stub.AbortMultipartUpload(
        pb.AbortMultipartUpload(artifact_path="1/run/artifacts", path="gone.bin", upload_id=created.upload_id)
    )
    uploads = s3_endpoint.client().list_multipart_uploads(Bucket=s3_endpoint.bucket, Prefix=s3_prefix)
    assert uploads.get("Uploads", []) == []
    late = error_of(
        lambda: s3_stub.CompleteMultipartUpload(
            pb.CompleteMultipartUpload(
                artifact_path="1/run/artifacts",
                path="gone.bin",
                upload_id=created.upload_id,
                parts=[pb.MultipartUploadPart(part_number=1, etag='"x"')],
            )
        )
    )
    assert late.code is ErrorCode.RESOURCE_DOES_NOT_EXIST
    assert not s3_stub.ListArtifacts(pb.ListArtifacts(path="1/run/artifacts")).files


def test_bad_multipart_requests_are_client_errors(s3_stub: Any) -> None:
    bogus = error_of(
        lambda: s3_stub.CompleteMultipartUpload(
            pb.CompleteMultipartUpload(
                artifact_path="1/r",
                path="f.bin",
                upload_id="no-such-upload",
                parts=[pb.MultipartUploadPart(part_number=1, etag='"abc"')],
            )
        )
    )
    assert bogus.code is ErrorCode.RESOURCE_DOES_NOT_EXIST  # the real server answers a 500 here
    no_parts = error_of(
        lambda: s3_stub.CompleteMultipartUpload(
            pb.CompleteMultipartUpload(artifact_path="1/r", path="f.bin", upload_id="u")
        )
    )
    assert no_parts.message.startswith("Missing value for required parameter 'parts'")
    too_many = error_of(
        lambda: s3_stub.CreateMultipartUpload(
            pb.CreateMultipartUpload(artifact_path="1/r", path="f.bin", num_parts=10_001)
        )
    )
    assert too_many.code is ErrorCode.INVALID_PARAMETER_VALUE


def test_presigned_download_supports_ranges_and_is_signed(s3_stub: Any) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    s3_stub.UploadArtifact(iter([pb.UploadArtifact(path="1/run/artifacts/big.bin", data=data)]))
    presigned = s3_stub.GetPresignedDownloadUrl(pb.GetPresignedDownloadUrl(path="1/run/artifacts/big.bin"))
    assert presigned.file_size == len(data)
    assert "X-Amz-Signature=" in presigned.url

    status, body, headers = get(presigned.url, {"Range": "bytes=1048576-2097151"})
    assert (status, body) == (206, data[1048576:2097152])
    status, body, headers = get(presigned.url)
    assert (status, hashlib.sha256(body).digest()) == (200, hashlib.sha256(data).digest())
    assert "attachment" in headers["Content-Disposition"] and "big.bin" in headers["Content-Disposition"]

    tampered = presigned.url.replace("big.bin", "other.bin")
    with pytest.raises(urllib.error.HTTPError) as rejected:
        get(tampered)
    assert rejected.value.code == 403
    rejected.value.close()

    missing = error_of(lambda: s3_stub.GetPresignedDownloadUrl(pb.GetPresignedDownloadUrl(path="1/run/nope")))
    assert missing.code is ErrorCode.RESOURCE_DOES_NOT_EXIST


# ------------------------------------------------------------------ tracking API presigned URLs


@pytest.fixture
def catalog_stub(
    request: pytest.FixtureRequest,
    artifact_server: ServerFactory,
    stub_for: Callable[[RunningServer], ArtifactServiceStub],
    monkeypatch: pytest.MonkeyPatch,
    catalog: Catalog,
) -> Any:
    s3_endpoint = request.getfixturevalue("s3_endpoint")
    s3_prefix = request.getfixturevalue("s3_prefix")
    tmp_path = request.getfixturevalue("tmp_path")
    s3_env(monkeypatch, s3_endpoint)
    direct = f"s3://{s3_endpoint.bucket}/{s3_prefix}/direct"
    catalog.runs["s3run"] = f"{direct}/s3run/artifacts"
    catalog.runs["localrun"] = str(tmp_path / "mlruns" / "localrun" / "artifacts")
    catalog.models["m-s3"] = f"{direct}/models/m-s3/artifacts"
    return stub_for(artifact_server(s3_endpoint.destination(s3_prefix), catalog))


def presign_upload_error(stub: Any, **fields: Any) -> Any:
    return error_of(functools.partial(stub.CreatePresignedUploadUrl, pb.CreatePresignedUploadUrl(**fields)))


def presign_download_error(stub: Any, **fields: Any) -> Any:
    return error_of(
        functools.partial(stub.CreatePresignedDownloadUrl, pb.CreatePresignedDownloadUrl(**fields))
    )


def test_presigned_upload_and_download_urls_for_cloud_run_roots(catalog_stub: Any) -> None:
    upload_url = catalog_stub.CreatePresignedUploadUrl(
        pb.CreatePresignedUploadUrl(run_id="s3run", path="plots/loss.png", expiration=120)
    )
    assert dict(upload_url.headers) == {"Content-Type": "image/png"}
    request = urllib.request.Request(
        upload_url.presigned_url, data=b"\x89PNG...", method="PUT", headers=dict(upload_url.headers)
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 200
    _, body = download(catalog_stub.GetRunArtifact(pb.GetRunArtifact(run_id="s3run", path="plots/loss.png")))
    assert body == b"\x89PNG..."

    download_url = catalog_stub.CreatePresignedDownloadUrl(
        pb.CreatePresignedDownloadUrl(run_id="s3run", path="plots/loss.png")
    )
    assert download_url.file_size == 7
    assert get(download_url.presigned_url)[1] == b"\x89PNG..."

    model_url = catalog_stub.CreatePresignedUploadUrl(
        pb.CreatePresignedUploadUrl(model_id="m-s3", path="model.pkl")
    )
    assert dict(model_url.headers) == {"Content-Type": "application/octet-stream"}
    assert "/direct/models/m-s3/artifacts/model.pkl?" in model_url.presigned_url


def test_presigned_urls_refused_where_mlflow_refuses_them(catalog_stub: Any) -> None:
    proxied = presign_upload_error(catalog_stub, run_id="run1", path="a.txt")
    assert (proxied.code, proxied.message) == (
        ErrorCode.INVALID_PARAMETER_VALUE,
        "Presigned upload is not supported for proxied artifact storage (artifact URI scheme: "
        "mlflow-artifacts). This endpoint requires a direct cloud storage artifact URI.",
    )
    proxied_download = presign_download_error(catalog_stub, run_id="run1", path="a")
    assert proxied_download.message.startswith("Presigned download is not supported for runs with proxied")
    both = presign_upload_error(catalog_stub, run_id="s3run", model_id="m-s3", path="a")
    assert both.message == "Exactly one of run_id and model_id must be provided."
    too_long = presign_download_error(catalog_stub, run_id="s3run", path="a", expiration=604801)
    assert too_long.message == "expiration must be between 1 and 604800 seconds (got 604801)."
    # A local run root the server did not mint is never opened (not even to say it can't presign).
    local = presign_upload_error(catalog_stub, run_id="localrun", path="a")
    assert local.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert "outside this server's artifact roots" in local.message
    traversal = presign_upload_error(catalog_stub, run_id="s3run", path="../x")
    assert (traversal.code, traversal.message) == (ErrorCode.INVALID_PARAMETER_VALUE, "Invalid path")
