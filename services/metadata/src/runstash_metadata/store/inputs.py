"""Run inputs (datasets, models), outputs (models) and the dataset search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import and_, select

from runstash_metadata.store import schema as s
from runstash_metadata.store.core import StoreCore
from runstash_metadata.store.values import DATASET_CONTEXT_TAG, chunks


class InputsMixin(StoreCore):
    """Inputs and outputs of runs."""

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[pb.DatasetInput] = (),
        models: Sequence[str] = (),
    ) -> None:
        d = s.datasets.c
        i = s.inputs.c
        with self._engine.begin() as conn:
            experiment_id = self._require_active_run(conn, run_id)
            if datasets:
                wanted: dict[tuple[str, str], pb.Dataset] = {}
                for di in datasets:
                    wanted[(di.dataset.name, di.dataset.digest)] = di.dataset
                conn.execute(
                    self._i_datasets,
                    [
                        {
                            "dataset_uuid": uuid.uuid4().hex,
                            "experiment_id": experiment_id,
                            "name": ds.name,
                            "digest": ds.digest,
                            "dataset_source_type": ds.source_type,
                            "dataset_source": ds.source,
                            "dataset_schema": ds.schema if ds.HasField("schema") else None,
                            "dataset_profile": ds.profile if ds.HasField("profile") else None,
                        }
                        for (_, _), ds in sorted(wanted.items())
                    ],
                )
                names = sorted({name for name, _ in wanted})
                uuids: dict[tuple[str, str], str] = {}
                for chunk in chunks(names):
                    for row in conn.execute(
                        select(d.dataset_uuid, d.name, d.digest).where(
                            d.experiment_id == experiment_id, d.name.in_(chunk)
                        )
                    ):
                        uuids[(row.name, row.digest)] = row.dataset_uuid
                existing = set(
                    conn.execute(
                        select(i.source_id).where(
                            i.destination_type == s.INPUT_DESTINATION_RUN,
                            i.destination_id == run_id,
                            i.source_type == s.INPUT_SOURCE_DATASET,
                        )
                    ).scalars()
                )
                new_inputs: list[dict[str, Any]] = []
                new_tags: list[dict[str, Any]] = []
                seen: set[str] = set()
                for di in datasets:
                    dataset_uuid = uuids[(di.dataset.name, di.dataset.digest)]
                    if dataset_uuid in existing or dataset_uuid in seen:
                        continue
                    seen.add(dataset_uuid)
                    input_uuid = uuid.uuid4().hex
                    new_inputs.append(
                        {
                            "input_uuid": input_uuid,
                            "source_type": s.INPUT_SOURCE_DATASET,
                            "source_id": dataset_uuid,
                            "destination_type": s.INPUT_DESTINATION_RUN,
                            "destination_id": run_id,
                        }
                    )
                    tag_map = {tag.key: tag.value for tag in di.tags}
                    new_tags.extend(
                        {"input_uuid": input_uuid, "name": k, "value": v} for k, v in tag_map.items()
                    )
                if new_inputs:
                    conn.execute(self._i_inputs, new_inputs)
                if new_tags:
                    conn.execute(self._i_input_tags, new_tags)
            if models:
                conn.execute(
                    self._i_inputs,
                    [
                        {
                            "input_uuid": uuid.uuid4().hex,
                            "source_type": s.INPUT_SOURCE_MODEL,
                            "source_id": model_id,
                            "destination_type": s.INPUT_DESTINATION_RUN,
                            "destination_id": run_id,
                        }
                        for model_id in dict.fromkeys(models)
                    ],
                )

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        with self._engine.begin() as conn:
            self._require_active_run(conn, run_id)
            conn.execute(
                self._i_run_outputs,
                [
                    {"run_uuid": run_id, "model_id": model_id, "step": step}
                    for model_id, step in dict.fromkeys(models)
                ],
            )

    def search_datasets(self, experiment_ids: Sequence[int]) -> list[pb.DatasetSummary]:
        d = s.datasets.c
        i = s.inputs.c
        it = s.input_tags.c
        stmt = (
            select(d.experiment_id, d.name, d.digest, it.value)
            .distinct()
            .join(
                s.inputs,
                and_(i.source_id == d.dataset_uuid, i.source_type == s.INPUT_SOURCE_DATASET),
            )
            .outerjoin(
                s.input_tags,
                and_(it.input_uuid == i.input_uuid, it.name == DATASET_CONTEXT_TAG),
            )
            .where(d.experiment_id.in_(list(experiment_ids)))
            .order_by(d.experiment_id, d.name, d.digest, it.value)
            .limit(1000)
        )
        with self._read_engine.connect() as conn:
            return [
                pb.DatasetSummary(experiment_id=str(exp_id), name=name, digest=digest, context=context)
                for exp_id, name, digest, context in conn.execute(stmt)
            ]
