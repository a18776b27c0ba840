"""`runstash export --from SOURCE DIR`: a tracking server's data into a self-describing directory
that `runstash import --from DIR --to URL` reads (see transfer/directory.py for the layout)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export")
@click.option(
    "--from",
    "source",
    required=True,
    help="Read only: a tracking server (http://host:5000) or its database (postgresql://…, "
    "mysql://…, sqlite:///…).",
)
@click.option(
    "--source-artifacts",
    default=None,
    help="With a database --from: the MLflow server's URL or its --artifacts-destination directory.",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where finished units are recorded (default: DIR/export.state); run the same command "
    "again to resume.",
)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(
    source: str, source_artifacts: str | None, state_file: Path | None, directory: Path
) -> None:
    """Write experiments, runs (params, tags, full metric histories as CSV chunks, inputs,
    outputs), logged models, the registry and artifacts (as files) to DIRECTORY. Idempotent and
    resumable like `runstash import`."""
    from runstash_server.transfer.cli import open_source, run_copy
    from runstash_server.transfer.directory import DirTarget

    if not source.startswith(("http://", "https://")) and Path(source).is_dir():
        raise click.UsageError("--from is a directory already: import it with `runstash import --from DIR`.")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        dst = DirTarget(directory, source)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    src = open_source(source, source_artifacts)
    run_copy(src, dst, state_file or directory / "export.state", "Exported")
