"""Artifact files put and listed where a run's artifact URI says, straight on disk or in S3
(the artifact locations gc must clean, written without going through runstash)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from tests.support.s3 import S3Endpoint


class ArtifactFiles:
    def __init__(self, destination: Path, s3: S3Endpoint) -> None:
        self.destination = destination
        self.s3 = s3
        self._client = s3.client()
        destination.mkdir(parents=True, exist_ok=True)

    def s3_location(self, name: str) -> str:
        return f"s3://{self.s3.bucket}/gc-tests/{self.destination.parent.name}/{name}"

    def _where(self, uri: str) -> tuple[str, str]:
        """("local", folder) or ("s3", key prefix) of ``uri``."""
        parsed = urllib.parse.urlparse(uri)
        if parsed.scheme == "mlflow-artifacts":
            return "local", str(self.destination / parsed.path.lstrip("/"))
        if parsed.scheme == "s3":
            assert parsed.netloc == self.s3.bucket
            return "s3", parsed.path.strip("/")
        raise ValueError(uri)

    def put(self, uri: str, relative: str, data: bytes) -> None:
        kind, base = self._where(uri)
        if kind == "local":
            path = Path(base) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            self._client.put_object(Bucket=self.s3.bucket, Key=f"{base}/{relative}", Body=data)

    def listing(self, uri: str) -> list[str]:
        """Every file under ``uri``, relative to it, sorted."""
        kind, base = self._where(uri)
        if kind == "local":
            root = Path(base)
            return (
                sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
                if root.exists()
                else []
            )
        names: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.s3.bucket, Prefix=base + "/"
        ):
            names += [
                obj["Key"][len(base) + 1 :]
                for obj in page.get("Contents", [])
                if not obj["Key"].endswith("/")
            ]
        return sorted(names)
