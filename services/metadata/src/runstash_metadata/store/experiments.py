"""Experiments: create, read, rename, delete/restore, tags, search."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError, not_found
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from runstash_metadata.store import schema as s
from runstash_metadata.store.core import StoreCore
from runstash_metadata.store.values import CUSTOM_VIEW_TAG_PREFIX, WORKSPACE, chunks, now_ms
from runstash_metadata.validation_experiments import check_custom_view_tag_write


class ExperimentsMixin(StoreCore):
    """The experiment RPCs of the tracking store."""

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[tuple[str, str]] = ()
    ) -> str:
        ts = now_ms()
        e = s.experiments.c
        try:
            with self._engine.begin() as conn:
                result = conn.execute(
                    insert(s.experiments).values(
                        name=name,
                        artifact_location=artifact_location or None,
                        lifecycle_stage=s.ACTIVE,
                        creation_time=ts,
                        last_update_time=ts,
                    )
                )
                experiment_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                if not artifact_location:
                    conn.execute(
                        update(s.experiments)
                        .where(e.experiment_id == experiment_id)
                        .values(artifact_location=self._default_location(experiment_id))
                    )
                if tags:
                    rows = {k: v for k, v in tags}
                    conn.execute(
                        self._u_exp_tags,
                        [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in rows.items()],
                    )
        except IntegrityError as exc:
            raise RunstashError(
                ErrorCode.RESOURCE_ALREADY_EXISTS,
                f"Experiment(name={name}) already exists. Error: {exc.orig}",
            ) from exc
        return str(experiment_id)

    def get_experiment(self, experiment_id: int) -> pb.Experiment:
        with self._read_engine.connect() as conn:
            experiments = self._load_experiments(conn, [experiment_id])
        if not experiments:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        return experiments[0]

    def get_experiment_by_name(self, name: str) -> pb.Experiment:
        e = s.experiments.c
        with self._read_engine.connect() as conn:
            row = conn.execute(select(e.experiment_id).where(e.name == name)).first()
            experiments = self._load_experiments(conn, [row[0]]) if row else []
        if not experiments:
            raise not_found(f"Could not find experiment with name '{name}'")
        return experiments[0]

    def _load_experiments(self, conn: Connection, ids: Sequence[int]) -> list[pb.Experiment]:
        """Experiments in the order of ``ids`` (missing ids skipped), tags loaded in bulk."""
        e = s.experiments.c
        t = s.experiment_tags.c
        by_id: dict[int, pb.Experiment] = {}
        for chunk in chunks(list(ids)):
            for row in conn.execute(select(s.experiments).where(e.experiment_id.in_(chunk))):
                exp = pb.Experiment(
                    experiment_id=str(row.experiment_id),
                    name=row.name,
                    artifact_location=row.artifact_location or "",
                    lifecycle_stage=row.lifecycle_stage,
                    last_update_time=row.last_update_time,
                    creation_time=row.creation_time,
                    workspace=WORKSPACE,
                )
                by_id[row.experiment_id] = exp
            for row in conn.execute(
                select(t.experiment_id, t.key, t.value).where(t.experiment_id.in_(chunk)).order_by(t.key)
            ):
                by_id[row.experiment_id].tags.add(key=row.key, value=row.value)
        return [by_id[i] for i in ids if i in by_id]

    def delete_experiment(self, experiment_id: int) -> None:
        self._set_experiment_stage(experiment_id, s.ACTIVE, s.DELETED)

    def restore_experiment(self, experiment_id: int) -> None:
        self._set_experiment_stage(experiment_id, s.DELETED, s.ACTIVE)

    def _set_experiment_stage(self, experiment_id: int, from_stage: str, to_stage: str) -> None:
        e = s.experiments.c
        r = s.runs.c
        ts = now_ms()
        with self._engine.begin() as conn:
            result = conn.execute(
                update(s.experiments)
                .where(e.experiment_id == experiment_id, e.lifecycle_stage == from_stage)
                .values(lifecycle_stage=to_stage, last_update_time=ts)
            )
            if result.rowcount == 0:
                raise not_found(f"No Experiment with id={experiment_id} exists")
            if to_stage == s.DELETED:
                conn.execute(
                    update(s.runs)
                    .where(r.experiment_id == experiment_id, r.lifecycle_stage == s.ACTIVE)
                    .values(lifecycle_stage=s.DELETED, deleted_time=ts)
                )
            else:
                conn.execute(
                    update(s.runs)
                    .where(r.experiment_id == experiment_id, r.lifecycle_stage == s.DELETED)
                    .values(lifecycle_stage=s.ACTIVE, deleted_time=None)
                )

    def rename_experiment(self, experiment_id: int, new_name: str) -> None:
        e = s.experiments.c
        try:
            with self._engine.begin() as conn:
                row = self._experiment_state(conn, experiment_id)
                if row.lifecycle_stage != s.ACTIVE:
                    raise RunstashError(ErrorCode.INVALID_STATE, "Cannot rename a non-active experiment.")
                conn.execute(
                    update(s.experiments)
                    .where(e.experiment_id == experiment_id)
                    .values(name=new_name, last_update_time=now_ms())
                )
        except IntegrityError as exc:
            raise RunstashError(
                ErrorCode.RESOURCE_ALREADY_EXISTS,
                f"Experiment(name={new_name}) already exists. Error: {exc.orig}",
            ) from exc

    def set_experiment_tag(self, experiment_id: int, key: str, value: str) -> None:
        t = s.experiment_tags.c
        with self._engine.begin() as conn:
            self._require_active_experiment(conn, experiment_id)
            if key.startswith(CUSTOM_VIEW_TAG_PREFIX):
                existing = conn.execute(
                    select(t.key).where(
                        t.experiment_id == experiment_id, t.key.like(f"{CUSTOM_VIEW_TAG_PREFIX}%")
                    )
                ).scalars()
                check_custom_view_tag_write(str(experiment_id), set(existing), key)
            conn.execute(self._u_exp_tags, {"experiment_id": experiment_id, "key": key, "value": value})

    def delete_experiment_tag(self, experiment_id: int, key: str) -> None:
        t = s.experiment_tags.c
        with self._engine.begin() as conn:
            self._require_active_experiment(conn, experiment_id)
            result = conn.execute(
                delete(s.experiment_tags).where(t.experiment_id == experiment_id, t.key == key)
            )
            if result.rowcount == 0:
                raise not_found(f"No tag with name: {key} in experiment with id {experiment_id}")

    def search_experiments(
        self,
        view_type: int,
        max_results: int,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> tuple[list[pb.Experiment], str | None]:
        exp_search = importlib.import_module("runstash_metadata.search.experiments")

        plan = exp_search.plan(filter_string, view_type, list(order_by), max_results, page_token)
        with self._read_engine.connect() as conn:
            rows = conn.execute(plan.statement).all()
            ids = [int(row[0]) for row in rows[: plan.max_results]]
            experiments = self._load_experiments(conn, ids)
        return experiments, plan.next_page_token(len(rows))
