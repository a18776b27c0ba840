"""Big uploads as S3 multipart, resumable after an interruption.

When the artifact service advertises multipart uploads (S3 storage with
``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD``), a big file goes up in parts straight to the object
store through the presigned part URLs that ``CreateMultipartUpload`` hands out, and
``CompleteMultipartUpload`` assembles it. Progress (upload id, part URLs, the ETag of every part
already stored) is kept in a small state file, written after each part; an upload of the same
file to the same place that finds that state picks up where the last one stopped and sends only
the missing parts, as long as the part URLs are still valid (they expire: S3's default is an
hour; an older state is dropped and the upload starts over). Only one part is in memory at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runstash_protos import artifacts_pb2 as apb
from runstash_protos import artifacts_pb2_grpc

from runstash.connection import Endpoint, backoff_delays, call

DEFAULT_PART_BYTES = 10 * 1024 * 1024
# Presigned part URLs live an hour by default; leave a margin for the parts still to send.
STATE_MAX_AGE_S = 45 * 60


def state_dir() -> Path:
    return Path(os.environ.get("RUNSTASH_UPLOAD_STATE_DIR", Path.home() / ".cache" / "runstash" / "uploads"))


@dataclass
class UploadState:
    upload_id: str
    part_bytes: int
    urls: dict[str, str]
    headers: dict[str, dict[str, str]]
    done: dict[str, str] = field(default_factory=dict)  # part number -> ETag
    created: float = field(default_factory=time.time)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> UploadState | None:
        try:
            state = cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return state if time.time() - state.created < STATE_MAX_AGE_S else None


def state_path(endpoint: Endpoint, local_file: str, remote_path: str) -> Path:
    """Where the progress of this file's upload to this place is kept."""
    stat = os.stat(local_file)
    local = os.path.abspath(local_file)
    identity = f"{endpoint.artifacts_target}|{remote_path}|{local}|{stat.st_size}|{stat.st_mtime_ns}"
    return state_dir() / (hashlib.sha256(identity.encode()).hexdigest() + ".json")


def upload_multipart(
    stub: artifacts_pb2_grpc.ArtifactServiceStub,
    endpoint: Endpoint,
    local_file: str,
    remote_path: str,
    *,
    part_bytes: int = DEFAULT_PART_BYTES,
) -> int:
    """Upload (or finish uploading) ``local_file`` to ``remote_path``; returns the parts sent now."""
    directory, _, name = remote_path.rpartition("/")
    where = state_path(endpoint, local_file, remote_path)
    where.parent.mkdir(parents=True, exist_ok=True)
    state = UploadState.load(where)
    if state is None:
        size = os.path.getsize(local_file)
        created = call(
            endpoint,
            stub.CreateMultipartUpload,
            apb.CreateMultipartUpload(
                artifact_path=directory, path=name, num_parts=max(1, -(-size // part_bytes))
            ),
        )
        state = UploadState(
            upload_id=created.upload_id,
            part_bytes=part_bytes,
            urls={str(c.part_number): c.url for c in created.credentials},
            headers={str(c.part_number): dict(c.headers) for c in created.credentials},
        )
        state.save(where)
    sent = 0
    with open(local_file, "rb") as f:
        for number in sorted(state.urls, key=int):
            if number in state.done:
                continue
            f.seek((int(number) - 1) * state.part_bytes)
            state.done[number] = _put_part(
                state.urls[number], state.headers[number], f.read(state.part_bytes), endpoint
            )
            state.save(where)
            sent += 1
    parts = [
        apb.MultipartUploadPart(part_number=int(n), etag=etag, url=state.urls[n])
        for n, etag in sorted(state.done.items(), key=lambda item: int(item[0]))
    ]
    call(
        endpoint,
        stub.CompleteMultipartUpload,
        apb.CompleteMultipartUpload(
            artifact_path=directory, path=name, upload_id=state.upload_id, parts=parts
        ),
    )
    where.unlink(missing_ok=True)
    return sent


def _put_part(url: str, headers: dict[str, str], data: bytes, endpoint: Endpoint) -> str:
    """PUT one part to its presigned URL (retried on network errors and 5xx); its ETag."""
    delays = backoff_delays(endpoint.retry_budget)
    while True:
        request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=endpoint.timeout) as response:
                etag: Any = response.headers.get("ETag")
                return str(etag)
        except OSError as error:
            status = getattr(error, "code", None)
            pause = next(delays, None) if status is None or status >= 500 else None
            if pause is None:
                raise
            time.sleep(pause)
