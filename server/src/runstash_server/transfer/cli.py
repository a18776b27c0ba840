"""`runstash import --from URL --to URL`: another tracking server's data into a running runstash."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import click


def _default_state(source: str, target: str) -> Path:
    digest = hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:12]
    return Path(f"runstash-import-{digest}.state")


@click.command("import")
@click.option(
    "--from", "source", required=True, help="The source tracking server (http://host:5000), read only."
)
@click.option("--to", "target", required=True, help="The runstash server to copy into (http://host:5000).")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where finished units are recorded (default: runstash-import-<hash of the two URLs>.state "
    "here); run the same command again to resume.",
)
@click.option(
    "--token", envvar="RUNSTASH_IMPORT_TOKEN", default=None, help="An administrator's token on the target."
)
def import_command(source: str, target: str, state_file: Path | None, token: str | None) -> None:
    """Copy experiments, runs (params, tags, full metric histories, inputs, outputs), logged
    models, the model registry and proxied artifacts, keeping ids, names and timestamps.
    Idempotent and resumable: run it again after a crash or to pick up new data."""
    if not source.startswith(("http://", "https://")):
        raise click.UsageError("--from takes a tracking server's http(s) URL.")
    from runstash_server.transfer.copier import Copier
    from runstash_server.transfer.rest import Rest, RestError
    from runstash_server.transfer.state import State

    state = State(state_file or _default_state(source, target))
    src, dst = Rest(source), Rest(target, token=token)
    copier = Copier(src, dst, state)
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
