"""`runstash gc`: the plan (what is taken, checked before anything is deleted) and its execution
batch by batch: artifacts first, then one transaction of rows per batch.

The database is the progress record: a batch's rows go only after its artifacts went, so a gc
killed at any point is resumed by running it again (artifacts already gone delete as no-ops, rows
already gone are no longer selected).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from runstash_metadata.store import gc as store
from runstash_metadata.store import schema as s
from runstash_metadata.store.database import Database
from runstash_metadata.tracing import gc as trace_gc

from runstash_server.artifact_eraser import ArtifactEraser

# Whatever gc deletes takes the rows other packages keep for it along (traces of an experiment).
trace_gc.register()

_AGE = re.compile(
    r"^((?P<days>[.\d]+?)d)?((?P<hours>[.\d]+?)h)?((?P<minutes>[.\d]+?)m)?((?P<seconds>[.\d]+?)s)?$"
)


class GcRefused(Exception):
    """The selection names something gc must not take; nothing was deleted."""


def parse_age_ms(older_than: str) -> int:
    """``1d2h3m4s`` (floats allowed, as MLflow takes them) in milliseconds."""
    parts = _AGE.match(older_than)
    try:
        values = {k: float(v) for k, v in parts.groupdict().items() if v} if parts else None
    except ValueError:
        values = None
    if not values:
        raise GcRefused(
            f"Could not parse any time information from '{older_than}'. "
            "Examples of valid strings: '8h', '2d8h5m20s', '2m4s'"
        )
    return int(timedelta(**values).total_seconds() * 1000)


@dataclass
class Plan:
    selection: store.Selection
    runs: int = 0
    models: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def experiments(self) -> Sequence[int]:
        return self.selection.experiment_ids


@dataclass
class Summary:
    runs: int = 0
    models: int = 0
    experiments: int = 0
    swept: dict[str, int] = field(default_factory=dict)


def _check_named(
    ids: Sequence[str],
    states: Mapping[str, tuple[str, int | None]],
    what: tuple[str, str],
    cutoff: int | None,
    older_than: str | None,
) -> list[str]:
    """Runs and logged models named to gc must be deleted and old enough, else nothing goes.
    ``what`` is the noun in MLflow's messages, singular and plural; ``states`` maps id to
    (lifecycle stage, time deleted or last updated)."""
    one, many = what
    for item in ids:
        if item not in states:
            continue
        stage, when = states[item]
        if stage != s.DELETED:
            raise GcRefused(
                f"{one} {item} is not in `deleted` lifecycle stage. "
                f"Only {many} in `deleted` lifecycle stage can be deleted."
            )
        if cutoff is not None and (when is None or when > cutoff):
            raise GcRefused(
                f"{one} {item} is not older than the required age. "
                f"Only {many} older than {older_than} can be deleted."
            )
    return [f"{one} with id={i} not found (already collected?); skipped." for i in ids if i not in states]


def _check_runs(
    db: Database, run_ids: Sequence[str], cutoff: int | None, older_than: str | None
) -> list[str]:
    with db.reader() as conn:
        states = store.run_states(conn, db.q, run_ids)
    return _check_named(run_ids, states, ("Run", "runs"), cutoff, older_than)


def _check_models(
    db: Database, model_ids: Sequence[str], cutoff: int | None, older_than: str | None
) -> list[str]:
    with db.reader() as conn:
        states = store.model_states(conn, db.q, model_ids)
    return _check_named(model_ids, states, ("Logged model", "logged models"), cutoff, older_than)


def _experiments(
    db: Database, named: Sequence[str] | None, cutoff: int | None, older_than: str | None
) -> tuple[list[int], list[str]]:
    with db.reader() as conn:
        if named is None:
            return store.deleted_experiment_ids(conn, cutoff), []
        try:
            ids = [int(e) for e in named]
        except ValueError:
            raise GcRefused(f"Experiment ids are integers: {','.join(named)}") from None
        missing = store.missing_experiments(conn, ids)
        present = [e for e in ids if e not in missing]
        active, recent = store.refused_experiments(conn, present, cutoff)
    if active:
        raise GcRefused(
            f"Experiments {[str(e) for e in active]} are not in the deleted lifecycle stage. "
            "Only experiments in the deleted lifecycle stage can be hard-deleted."
        )
    if recent:
        raise GcRefused(
            f"Experiments {[str(e) for e in recent]} are not older than the required age. "
            f"Only experiments older than {older_than} can be deleted."
        )
    return present, [f"No Experiment with id={e} exists (already collected?); skipped." for e in missing]


def plan(
    db: Database,
    *,
    older_than: str | None = None,
    run_ids: Sequence[str] | None = None,
    experiment_ids: Sequence[str] | None = None,
    model_ids: Sequence[str] | None = None,
    now_ms: int | None = None,
) -> Plan:
    """What a gc with MLflow's flags takes, every named id checked first (GcRefused if one may
    not go). Named ids that no longer exist are skipped with a note, so a rerun after an
    interruption completes instead of failing on what the first run already removed."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    cutoff = now - parse_age_ms(older_than) if older_than is not None else None
    skipped: list[str] = []
    if run_ids is not None:
        skipped += _check_runs(db, run_ids, cutoff, older_than)
    if model_ids is not None:
        skipped += _check_models(db, model_ids, cutoff, older_than)
    experiments, missing = _experiments(db, experiment_ids, cutoff, older_than)
    selection = store.Selection(cutoff, run_ids, model_ids, tuple(experiments))
    with db.reader() as conn:
        runs = store.count_runs(conn, db.q, selection)
        models = store.count_models(conn, db.q, selection)
    return Plan(selection, runs, models, skipped + missing)


Progress = Callable[[int], None]


def _collect_owned(
    db: Database,
    *,
    fetch: Callable[..., list[store.Doomed]],
    remove: Callable[..., int],
    selection: store.Selection,
    eraser: ArtifactEraser,
    batch_size: int,
    progress: Progress,
) -> int:
    done = 0
    while True:
        with db.reader() as conn:
            batch = fetch(conn, db.q, selection, limit=batch_size)
        if not batch:
            return done
        eraser.erase([(d.id, d.artifact_uri) for d in batch])
        with db.transaction() as conn:
            remove(conn, db.q, [d.id for d in batch])
        done += len(batch)
        progress(len(batch))


def execute(
    db: Database, the_plan: Plan, eraser: ArtifactEraser, *, batch_size: int, progress: Progress
) -> Summary:
    sel = the_plan.selection
    summary = Summary()
    summary.runs = _collect_owned(
        db,
        fetch=store.next_runs,
        remove=store.delete_runs,
        selection=sel,
        eraser=eraser,
        batch_size=batch_size,
        progress=progress,
    )
    summary.models = _collect_owned(
        db,
        fetch=store.next_models,
        remove=store.delete_models,
        selection=sel,
        eraser=eraser,
        batch_size=batch_size,
        progress=progress,
    )
    experiments = list(sel.experiment_ids)
    for start in range(0, len(experiments), batch_size):
        group = experiments[start : start + batch_size]
        with db.transaction() as conn:
            summary.experiments += store.delete_experiments(conn, db.q, group)
        progress(len(group))
    for sweeper in store.SWEEPERS:
        summary.swept[sweeper.name] = _sweep(db, sweeper, sel.cutoff_ms, batch_size, progress)
    return summary


def _sweep(
    db: Database, sweeper: store.Sweeper, cutoff: int | None, batch_size: int, progress: Progress
) -> int:
    total = 0
    while True:
        with db.transaction() as conn:
            n = sweeper.sweep(conn, db.q, cutoff, batch_size)
        if n == 0:
            return total
        total += n
        progress(n)


def sweep_counts(db: Database, cutoff: int | None) -> dict[str, int]:
    with db.reader() as conn:
        return {sw.name: sw.count(conn, db.q, cutoff) for sw in store.SWEEPERS}


def dry_run_ids(db: Database, the_plan: Plan, batch_size: int) -> tuple[list[str], list[str]]:
    """(run ids, logged model ids) a gc would remove, paged through by id."""
    out: tuple[list[str], list[str]] = ([], [])
    for fetch, ids in ((store.next_runs, out[0]), (store.next_models, out[1])):
        after = ""
        while page := fetch_page(db, fetch, the_plan.selection, after, batch_size):
            ids.extend(d.id for d in page)
            after = page[-1].id
    return out


def fetch_page(
    db: Database, fetch: Callable[..., list[store.Doomed]], sel: store.Selection, after: str, limit: int
) -> list[store.Doomed]:
    with db.reader() as conn:
        return fetch(conn, db.q, sel, after=after, limit=limit)
