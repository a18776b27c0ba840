"""Client-chosen ``s3://`` artifact locations outside the server's configured S3 root.

security.md rule 2: the server decides artifact locations; a client-supplied URI is dereferenced
only inside the configured roots. With an S3 destination, a client that creates an experiment with
``artifact_location=s3://<another bucket or prefix>`` must not make the server read, list or write
there with the *server's* credentials (a confused deputy: the client has no S3 credentials, the
server has). Uses the session's SeaweedFS (a second bucket in it), never stops it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.security.support import (
    assert_mlflow_error,
    create_experiment,
    create_run,
    post_json,
    raw_request,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, S3Endpoint, ServerLauncher

CANARY = f"s3-canary-{secrets.token_hex(8)}"


@dataclass
class S3Target:
    url: str
    s3: S3Endpoint
    prefix: str  # the server's destination is s3://<s3.bucket>/<prefix>
    private_bucket: str


@pytest.fixture(scope="module")
def s3_target(
    s3_endpoint: S3Endpoint,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
) -> Iterator[S3Target]:
    prefix = f"sec-{secrets.token_hex(4)}"
    private = f"sec-private-{secrets.token_hex(4)}"
    s3_endpoint.client().create_bucket(Bucket=private)
    db = database_factory.create("sqlite")
    server = server_launcher.single(
        db.uri, s3_endpoint.destination(prefix), env=s3_endpoint.env(), label="sec-s3-locations"
    )
    try:
        yield S3Target(server.url, s3_endpoint, prefix, private)
    finally:
        server_launcher.stop(server)


def _keys(client: Any, bucket: str, prefix: str) -> set[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {obj["Key"] for obj in listing.get("Contents", [])}


def test_foreign_s3_locations_are_rejected_or_never_dereferenced(s3_target: S3Target) -> None:
    t = s3_target
    client = t.s3.client()
    locations = {
        "other bucket": (t.private_bucket, "loot"),
        "same bucket, other prefix": (t.s3.bucket, f"{t.prefix}-other"),
        "same bucket, root": (t.s3.bucket, ""),
    }
    failures = []
    for shape, (bucket, key_prefix) in locations.items():
        location = f"s3://{bucket}/{key_prefix}".rstrip("/")
        created = post_json(
            t.url,
            "/api/2.0/mlflow/experiments/create",
            {"name": f"s3-{secrets.token_hex(4)}", "artifact_location": location},
        )
        if created.status != 200:
            assert_mlflow_error(created, 400, "INVALID_PARAMETER_VALUE")
            continue
        run_id = str(create_run(t.url, str(created.json()["experiment_id"]))["run_id"])
        run_prefix = f"{key_prefix}/{run_id}/artifacts".lstrip("/")
        client.put_object(Bucket=bucket, Key=f"{run_prefix}/secret.txt", Body=CANARY.encode())
        probes = {
            "get-artifact": raw_request(t.url, "GET", f"/get-artifact?run_id={run_id}&path=secret.txt"),
            "list": raw_request(t.url, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}"),
            "upload": raw_request(
                t.url,
                "POST",
                f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={run_id}&path=written.txt",
                body=b"written by a client through the server",
            ),
            # A presigned URL for the foreign key is the same read/write access, handed out.
            "presigned-download": post_json(
                t.url,
                "/api/2.0/mlflow/artifacts/presigned-download-url",
                {"run_id": run_id, "path": "secret.txt"},
            ),
            "presigned-upload": post_json(
                t.url,
                "/api/2.0/mlflow/artifacts/presigned-upload-url",
                {"run_id": run_id, "path": "written2.txt"},
            ),
        }
        for probe, response in probes.items():
            where = f"{shape} ({location}) {probe}"
            if CANARY.encode() in response.body:
                failures.append(f"{where}: served an object outside the server's root: {response.describe()}")
            elif probe == "list" and b"secret.txt" in response.body:
                failures.append(f"{where}: listed outside the server's root: {response.describe()}")
            elif probe.startswith("presigned") and response.status == 200:
                failures.append(f"{where}: signed a URL outside the server's root: {response.describe()}")
            elif response.status >= 500 and response.status != 501:
                failures.append(f"{where}: {response.describe()}")
        if f"{run_prefix}/written.txt" in _keys(client, bucket, run_prefix):
            failures.append(f"{shape} ({location}) upload: wrote s3://{bucket}/{run_prefix}/written.txt")
    assert not failures, "\n".join(failures)


def test_own_s3_root_still_works(s3_target: S3Target) -> None:
    """The check above must not pass merely because S3 artifacts are broken altogether."""
    t = s3_target
    experiment_id = create_experiment(t.url, f"s3-own-{secrets.token_hex(4)}")
    run_id = str(create_run(t.url, experiment_id)["run_id"])
    put = raw_request(
        t.url,
        "PUT",
        f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/ok.txt",
        body=b"ok",
    )
    assert put.status == 200, put.describe()
    got = raw_request(t.url, "GET", f"/get-artifact?run_id={run_id}&path=ok.txt")
    assert got.status == 200 and got.body == b"ok", got.describe()
    assert f"{t.prefix}/{experiment_id}/{run_id}/artifacts/ok.txt" in _keys(
        t.s3.client(), t.s3.bucket, t.prefix
    )
