"""`runstash import --from SOURCE --to URL`: another tracking server's data into a running
runstash. SOURCE is the server's URL, its database (read only) or an export directory."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import click

from runstash_server.transfer.source import Source
from runstash_server.transfer.target import Target

DATABASE_SCHEMES = ("postgresql", "mysql", "sqlite", "mssql")


def _default_state(source: str, target: str) -> Path:
    digest = hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:12]
    return Path(f"runstash-import-{digest}.state")


def open_source(source: str, artifacts: str | None) -> Source:
    """The source named by ``--from``: an http(s) URL, a database URI or an export directory."""
    from runstash_server.transfer.directory import DirSource
    from runstash_server.transfer.rest import Rest
    from runstash_server.transfer.source import RestSource

    if source.startswith(("http://", "https://")):
        return RestSource(Rest(source))
    if source.split(":", 1)[0].split("+", 1)[0] in DATABASE_SCHEMES:
        from runstash_server.transfer.sql_source import SqlSource

        return SqlSource(source, artifacts)
    if Path(source).is_dir():
        try:
            return DirSource(Path(source))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    raise click.UsageError(
        f"--from {source!r}: expected a tracking server's http(s) URL, an MLflow database URI "
        "(postgresql://, mysql://, sqlite:///) or a directory written by `runstash export`."
    )


def run_copy(src: Source, dst: Target, state_path: Path, verb: str) -> None:
    """Everything from ``src`` to ``dst`` in dependency order, with a progress bar and a summary:
    logged models before runs (runs' metrics and outputs name them), runs before the registry."""
    from runstash_server.transfer.copier import Copier
    from runstash_server.transfer.rest import RestError
    from runstash_server.transfer.state import State

    state = State(state_path)
    copier = Copier(src, dst, state)
    copier.totals.verb = verb
    try:
        experiment_ids = copier.experiments()
        copier.logged_models(experiment_ids)
        runs = copier.list_runs(experiment_ids)
        with click.progressbar(length=max(len(runs), 1), label="runs", file=sys.stderr, show_pos=True) as bar:
            copier.copy_runs(runs, bar.update)
        copier.registry()
        copier.settle_logged_models()
    except RestError as exc:
        raise click.ClickException(f"{exc} (run the same command again to resume)") from None
    finally:
        copier.close()
        src.close()
        dst.close()
        state.close()
    click.echo(copier.totals.line())


@click.command("import")
@click.option(
    "--from",
    "source",
    required=True,
    help="Read only: a tracking server (http://host:5000), its database (postgresql://…, "
    "mysql://…, sqlite:///…) or a directory written by `runstash export`.",
)
@click.option("--to", "target", required=True, help="The runstash server to copy into (http://host:5000).")
@click.option(
    "--source-artifacts",
    default=None,
    help="With a database --from: where its artifacts are, the MLflow server's URL (its artifact "
    "proxy) or its --artifacts-destination directory. Without it artifacts are not copied.",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where finished units are recorded (default: runstash-import-<hash of --from and --to>.state "
    "here); run the same command again to resume.",
)
@click.option(
    "--token", envvar="RUNSTASH_IMPORT_TOKEN", default=None, help="An administrator's token on the target."
)
def import_command(
    source: str, target: str, source_artifacts: str | None, state_file: Path | None, token: str | None
) -> None:
    """Copy experiments, runs (params, tags, full metric histories, inputs, outputs), logged
    models, the model registry and proxied artifacts, keeping ids, names and timestamps.
    Idempotent and resumable: run it again after a crash or to pick up new data."""
    from runstash_server.transfer.rest import Rest
    from runstash_server.transfer.target import RestTarget

    if not target.startswith(("http://", "https://")):
        raise click.UsageError("--to takes the runstash server's http(s) URL.")
    src = open_source(source, source_artifacts)
    run_copy(
        src, RestTarget(Rest(target, token=token)), state_file or _default_state(source, target), "Imported"
    )
