"""The offline spool: batches a job could not deliver, kept on local disk until `runstash sync`.

A spool file is a sequence of length-prefixed ``IngestBatch`` messages (4-byte big-endian length,
then the serialized message), appended and flushed to disk batch by batch, so a job killed while
offline loses at most the batch being written, and a torn last record is detected and skipped on
replay. Files are named ``<job>.spool`` inside the spool folder; replay deletes a file only after
every batch in it was acknowledged by the server. Replaying a file twice stores nothing twice:
points are their own key in the store, params accept the same value again, tags are overwrites.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from runstash_protos import ingest_pb2

log = logging.getLogger("runstash.spool")

SUFFIX = ".spool"
_LENGTH = struct.Struct(">I")


class SpoolWriter:
    """Appends batches to one spool file, created on the first batch."""

    def __init__(self, folder: Path, job_id: str) -> None:
        self.path = folder / f"{job_id}{SUFFIX}"
        self._file: BinaryIO | None = None
        self.batches = 0

    def append(self, batch: ingest_pb2.IngestBatch) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - held open across appends
        data = batch.SerializeToString()
        f = self._file
        f.write(_LENGTH.pack(len(data)) + data)
        f.flush()
        os.fsync(f.fileno())
        self.batches += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_spool(path: Path) -> Iterator[ingest_pb2.IngestBatch]:
    """The batches of one spool file, in order; a torn last record (a crash mid-write) ends it."""
    with open(path, "rb") as f:
        while header := f.read(_LENGTH.size):
            if len(header) < _LENGTH.size:
                log.warning("%s: torn record header at the end, ignored", path)
                return
            (size,) = _LENGTH.unpack(header)
            data = f.read(size)
            if len(data) < size:
                log.warning("%s: torn record at the end, ignored", path)
                return
            yield ingest_pb2.IngestBatch.FromString(data)


def spool_files(folder: Path) -> list[Path]:
    """Spool files in ``folder``, oldest first (replay order matters for tags)."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: (p.stat().st_mtime, p.name))
