"""What the benchmark needs around the servers: fresh PostgreSQL databases and a SeaweedFS S3.

Kept apart from tests/conftest.py on purpose: the benchmark is a script, not a pytest session.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
S3_ACCESS_KEY = "benchaccesskey"
S3_SECRET_KEY = "benchsecretkey123"
S3_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _port_with_grpc_twin() -> int:
    for _ in range(200):
        port = random.randint(20000, 45000)
        if _port_free(port) and _port_free(port + 10000):
            return port
    raise RuntimeError("no free port pair")


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    return conn


@contextlib.contextmanager
def fresh_pg_database(label: str) -> Iterator[str]:
    """Creates `rs_bench_<label>_<random>`; yields its name; drops it (with FORCE) afterwards."""
    name = f"rs_bench_{label}_{secrets.token_hex(4)}"
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def pg_uri(name: str, *, explicit_driver: bool) -> str:
    scheme = "postgresql+psycopg2" if explicit_driver else "postgresql"
    return f"{scheme}://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def postmaster_pid() -> int | None:
    """PID of the PostgreSQL server (for loadgen --db-pid), if this user can read it."""
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW data_directory")
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    try:
        return int((Path(row[0]) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class S3:
    url: str
    bucket: str

    def env(self) -> dict[str, str]:
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.url,
            "AWS_ENDPOINT_URL_S3": self.url,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_DEFAULT_REGION": S3_REGION,
            "AWS_REGION": S3_REGION,
        }

    def client(self) -> object:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name=S3_REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


@contextlib.contextmanager
def seaweedfs(weed: Path, data_dir: Path) -> Iterator[S3]:
    """`weed mini` on free ports with one bucket; stopped (process group) on exit."""
    if not weed.exists():
        found = shutil.which("weed")
        if found is None:
            raise RuntimeError("weed not found: run `make install`")
        weed = Path(found)
    ports = {k: _port_with_grpc_twin() for k in ("master", "volume", "filer", "s3", "admin")}
    argv = [
        str(weed),
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
    with (data_dir / "weed.log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{ports['s3']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("SeaweedFS did not start: " + (data_dir / "weed.log").read_text()[-2000:])
            time.sleep(0.1)
        s3 = S3(url, f"bench-{secrets.token_hex(4)}")
        s3.client().create_bucket(Bucket=s3.bucket)  # type: ignore[attr-defined]
        yield s3
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
