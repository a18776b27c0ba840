"""`runstash gc`: MLflow's `mlflow gc`, with its flags, on a runstash backend store.

Differences from MLflow, each for the operator's sake: everything named is checked before
anything is deleted (MLflow deletes up to the first refused id); a named id that no longer exists
is skipped with a note, so rerunning an interrupted gc finishes it; artifacts under
``mlflow-artifacts:/`` are found through ``--artifacts-destination`` (no tracking server needed).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from runstash_server.cli_options import split
from runstash_server.config import DEFAULT_ARTIFACTS_DESTINATION, DEFAULT_BACKEND_STORE_URI

DEFAULT_BATCH = 200


def _progress(total: int, label: str) -> Any:
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=True)


def _dry_run(db: Any, the_plan: Any, batch: int) -> None:
    from runstash_server.gc import dry_run_ids, sweep_counts

    run_ids, model_ids = dry_run_ids(db, the_plan, batch)
    for run_id in run_ids:
        click.echo(f"Run with ID {run_id} would be permanently deleted.")
    for model_id in model_ids:
        click.echo(f"Logged model with ID {model_id} would be permanently deleted.")
    for experiment_id in the_plan.experiments:
        click.echo(f"Experiment with ID {experiment_id} would be permanently deleted.")
    swept = sweep_counts(db, the_plan.selection.cutoff_ms)
    extra = "".join(f", {n} {name}" for name, n in swept.items())
    click.echo(
        f"Dry run: {len(run_ids)} runs, {len(model_ids)} logged models and "
        f"{len(the_plan.experiments)} experiments{extra} would be deleted; nothing was."
    )


@click.command(short_help="Permanently delete runs and experiments in the `deleted` lifecycle stage.")
@click.option(
    "--older-than",
    default=None,
    help="Only what was deleted longer ago than this: #d#h#m#s, floats allowed (1d2h3m4s, 1.5d).",
)
@click.option(
    "--backend-store-uri",
    envvar="MLFLOW_BACKEND_STORE_URI",
    default=DEFAULT_BACKEND_STORE_URI,
    show_default=True,
    help="The backend store to collect in (as for `runstash server`).",
)
@click.option(
    "--artifacts-destination",
    envvar="MLFLOW_ARTIFACTS_DESTINATION",
    default=DEFAULT_ARTIFACTS_DESTINATION,
    show_default=True,
    help="Where the server stores proxied (mlflow-artifacts:/) artifacts: a folder or s3://bucket/prefix.",
)
@click.option(
    "--run-ids",
    default=None,
    help="Comma-separated runs to delete (each must be deleted). Default: every deleted run.",
)
@click.option(
    "--experiment-ids",
    default=None,
    help="Comma-separated experiments to delete with all their runs (each must be deleted). "
    "Default: every deleted experiment.",
)
@click.option(
    "--logged-model-ids",
    default=None,
    help="Comma-separated logged models to delete (each must be deleted). Default: every deleted one.",
)
@click.option("--dry-run", is_flag=True, default=False, help="List what would be deleted; delete nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 2000),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Runs (or experiments) per transaction.",
)
def gc(**opts: Any) -> None:
    """Permanently delete runs, logged models and experiments in the `deleted` lifecycle stage,
    with their artifacts (local or S3), in batches. Safe to interrupt and run again."""
    from runstash_metadata.store.database import Database

    from runstash_server.artifact_eraser import ArtifactEraser
    from runstash_server.gc import GcRefused, execute, plan, sweep_counts

    def ids(name: str) -> list[str] | None:
        return list(split(opts[name])) if opts[name] else None

    db = Database.open(opts["backend_store_uri"])
    try:
        try:
            the_plan = plan(
                db,
                older_than=opts["older_than"],
                run_ids=ids("run_ids"),
                experiment_ids=ids("experiment_ids"),
                model_ids=ids("logged_model_ids"),
            )
        except GcRefused as exc:
            raise click.ClickException(str(exc)) from None
        for note in the_plan.skipped:
            click.echo(note, err=True)
        if opts["dry_run"]:
            _dry_run(db, the_plan, opts["batch_size"])
            return
        swept = sum(sweep_counts(db, the_plan.selection.cutoff_ms).values())
        total = the_plan.runs + the_plan.models + len(the_plan.experiments) + swept
        eraser = ArtifactEraser(opts["artifacts_destination"], lambda m: click.echo(m, err=True))
        try:
            with _progress(total, "gc") as bar:
                summary = execute(db, the_plan, eraser, batch_size=opts["batch_size"], progress=bar.update)
        finally:
            eraser.close()
    finally:
        db.close()
    extra = "".join(f", {n} {name}" for name, n in summary.swept.items())
    click.echo(
        f"Permanently deleted {summary.runs} runs, {summary.models} logged models and "
        f"{summary.experiments} experiments{extra}."
    )
