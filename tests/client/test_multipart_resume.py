"""A big upload to S3 goes up in parts and, interrupted, resumes with only the missing parts.

Real pieces only: `runstash server --grpc-port` with S3 storage (SeaweedFS) and multipart
uploads on, the uploader killed in its own process once some parts are stored.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from runstash.connection import Endpoint
from runstash.multipart import UploadState, state_path, upload_multipart
from runstash_protos import artifacts_pb2 as apb
from runstash_protos import artifacts_pb2_grpc

from tests.conftest import free_port

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, S3Endpoint, ServerLauncher

PART = 5 * 1024 * 1024  # S3's smallest part (but the last)
PARTS = 6

UPLOADER = """
import sys
from runstash.connection import Endpoint
from runstash.multipart import upload_multipart
from runstash_protos import artifacts_pb2_grpc

endpoint = Endpoint.from_uri(sys.argv[1])
stub = artifacts_pb2_grpc.ArtifactServiceStub(endpoint.channel(endpoint.artifacts_target))
upload_multipart(stub, endpoint, sys.argv[2], sys.argv[3], part_bytes=int(sys.argv[4]))
"""


def test_interrupted_multipart_upload_resumes_with_the_missing_parts(
    s3_endpoint: S3Endpoint,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    server = server_launcher.single(
        database_factory.create("sqlite").uri,
        s3_endpoint.destination("multipart-resume"),
        env={**s3_endpoint.env(), "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true"},
        extra_args=["--grpc-port", str(port)],
        label="multipart",
    )
    target = f"runstash://127.0.0.1:{port}"
    monkeypatch.setenv("RUNSTASH_UPLOAD_STATE_DIR", str(tmp_path / "state"))
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        for _ in range(PARTS):
            f.write(os.urandom(PART))
        f.write(b"tail")
    remote = "0/resume/artifacts/big.bin"
    endpoint = Endpoint.from_uri(target)
    stub = artifacts_pb2_grpc.ArtifactServiceStub(endpoint.channel(endpoint.artifacts_target))
    assert stub.GetArtifactCapabilities(apb.GetArtifactCapabilities()).multipart_uploads_enabled

    script = tmp_path / "uploader.py"
    script.write_text(textwrap.dedent(UPLOADER))
    uploader = subprocess.Popen(
        [sys.executable, str(script), target, str(big), remote, str(PART)], env=dict(os.environ)
    )
    progress = state_path(endpoint, str(big), remote)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and uploader.poll() is None:
        state = UploadState.load(progress) if progress.exists() else None
        if state is not None and len(state.done) >= 2:
            uploader.send_signal(signal.SIGKILL)  # the job dies mid-upload
            break
        time.sleep(0.02)
    uploader.wait(timeout=30)
    state = UploadState.load(progress)
    assert state is not None, "the uploader finished before it could be interrupted"
    done_before = len(state.done)
    assert 2 <= done_before < PARTS + 1

    sent_now = upload_multipart(stub, endpoint, str(big), remote, part_bytes=PART)
    assert sent_now == PARTS + 1 - done_before
    assert not progress.exists()

    digest = hashlib.sha256()
    for message in stub.DownloadArtifact(apb.DownloadArtifact(path=remote)):
        digest.update(message.data)
    assert digest.hexdigest() == hashlib.sha256(big.read_bytes()).hexdigest()
    server_launcher.stop(server)
