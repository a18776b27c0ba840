"""`runstash sync DIR`: replay what jobs spooled while the server was unreachable.

Each spool file is sent through the ingest stream and deleted once every batch in it was
acknowledged; a file with a rejected batch is kept (and named) so nothing is dropped silently.
Replaying a file again stores nothing twice (see :mod:`runstash.spool`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported when a sync runs: gRPC and the stubs cost a server's start-up
    from runstash.connection import Endpoint


def replay(folder: Path, endpoint: Endpoint) -> tuple[int, int]:
    """Replay every spool file in ``folder``; returns (files replayed, batches sent)."""
    from runstash.batching import column_metrics
    from runstash.ingest import AsyncLogger
    from runstash.spool import read_spool, spool_files

    files = batches = 0
    for path in spool_files(folder):
        logger = AsyncLogger(endpoint, spool_dir=folder, offline_after=float("inf"))
        try:
            futures = [
                logger.log_batch(b.run_id, column_metrics(b), b.params, b.tags) for b in read_spool(path)
            ]
            logger.flush()
        finally:
            logger.close()
        for future in futures:
            future.result()
        path.unlink()
        files += 1
        batches += len(futures)
    return files, batches


@click.command("sync")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--tracking-uri",
    default=lambda: os.environ.get("MLFLOW_TRACKING_URI", ""),
    help="runstash://host:port of the metadata service (default: $MLFLOW_TRACKING_URI).",
)
def sync(folder: Path, tracking_uri: str) -> None:
    """Replay the offline spool in FOLDER (written while the server was unreachable)."""
    if not tracking_uri:
        raise click.UsageError("give --tracking-uri runstash://host:port (or set MLFLOW_TRACKING_URI)")
    from runstash.connection import Endpoint

    files, batches = replay(folder, Endpoint.from_uri(tracking_uri))
    click.echo(f"replayed {batches} batches from {files} spool files")
