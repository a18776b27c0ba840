"""Logged models and run inputs/outputs read from an MLflow database (see sql_source.py), in the
shapes of MLflow's REST API."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy import Connection, bindparam, text

Json = dict[str, Any]


def _in(sql: str, name: str) -> Any:
    return text(sql).bindparams(bindparam(name, expanding=True))


def _model_metric(m: Any) -> Json:
    point: Json = {
        "key": m.metric_name,
        "value": math.nan if m.metric_value is None else float(m.metric_value),
        "timestamp": m.metric_timestamp_ms,
        "step": m.metric_step,
        "run_id": m.run_id,
        "model_id": m.model_id,
    }
    point.update({k: getattr(m, k) for k in ("dataset_name", "dataset_digest") if getattr(m, k)})
    return point


def logged_models(conn: Connection, experiment_ids: list[int]) -> list[Json]:
    if not experiment_ids:
        return []
    ids = {"eids": experiment_ids}
    where = "WHERE experiment_id IN :eids"
    found = list(conn.execute(_in(f"SELECT * FROM logged_models {where} AND lifecycle_stage = 'active' "
                                  "ORDER BY creation_timestamp_ms DESC, model_id", "eids"), ids))  # fmt: skip
    extra: dict[str, dict[str, list[Json]]] = defaultdict(lambda: defaultdict(list))
    for t in conn.execute(_in(f"SELECT * FROM logged_model_tags {where} ORDER BY tag_key", "eids"), ids):
        extra[t.model_id]["tags"].append({"key": t.tag_key, "value": t.tag_value})
    for p in conn.execute(_in(f"SELECT * FROM logged_model_params {where} ORDER BY param_key", "eids"), ids):
        extra[p.model_id]["params"].append({"key": p.param_key, "value": p.param_value})
    # In stored order, as MLflow's API lists them.
    for m in conn.execute(_in(f"SELECT * FROM logged_model_metrics {where}", "eids"), ids):
        extra[m.model_id]["metrics"].append(_model_metric(m))
    return [_model(row, extra[row.model_id]) for row in found]


def _model(row: Any, extra: dict[str, list[Json]]) -> Json:
    info: Json = {
        "model_id": row.model_id,
        "experiment_id": str(row.experiment_id),
        "name": row.name,
        "artifact_uri": row.artifact_location,
        "creation_timestamp_ms": row.creation_timestamp_ms,
        "last_updated_timestamp_ms": row.last_updated_timestamp_ms,
        "status": pb.LoggedModelStatus.Name(row.status),
        "model_type": row.model_type,
        "source_run_id": row.source_run_id,
        "status_message": row.status_message,
    }
    info = {k: v for k, v in info.items() if v is not None}
    if extra.get("tags"):
        info["tags"] = extra["tags"]
    data: Json = {}
    if extra.get("params"):
        data["params"] = extra["params"]
    if extra.get("metrics"):
        data["metrics"] = extra["metrics"]
    return {"info": info, "data": data}


def _dataset(d: Any) -> Json:
    dataset = {
        "name": d.name,
        "digest": d.digest,
        "source_type": d.dataset_source_type,
        "source": d.dataset_source,
        "schema": d.dataset_schema,
        "profile": d.dataset_profile,
    }
    return {k: v for k, v in dataset.items() if v is not None}


def run_inputs_outputs(conn: Connection, eid: int, parts: dict[str, dict[str, list[Json]]]) -> None:
    """Adds each run's dataset_inputs, model_inputs and model_outputs to ``parts``."""
    runs = "(SELECT run_uuid FROM runs WHERE experiment_id = :eid)"
    rows = conn.execute(
        text(
            "SELECT i.input_uuid, i.destination_id AS run_uuid, d.name, d.digest, d.dataset_source_type, "
            "d.dataset_source, d.dataset_schema, d.dataset_profile, t.name AS tag_key, t.value AS tag_value "
            "FROM inputs i JOIN datasets d ON i.source_id = d.dataset_uuid "
            "LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid "
            f"WHERE i.destination_type = 'RUN' AND i.destination_id IN {runs} ORDER BY i.input_uuid, t.name"
        ),
        {"eid": eid},
    )
    by_input: dict[str, Json] = {}
    for r in rows:
        entry = by_input.get(r.input_uuid)
        if entry is None:
            entry = by_input[r.input_uuid] = {"dataset": _dataset(r), "tags": []}
            parts[r.run_uuid]["dataset_inputs"].append(entry)
        if r.tag_key is not None:
            entry["tags"].append({"key": r.tag_key, "value": r.tag_value})
    models = conn.execute(
        text(
            "SELECT source_type, source_id, destination_id, step FROM inputs WHERE "
            "((source_type = 'RUN_INPUT' AND destination_type = 'MODEL_INPUT') OR "
            "(source_type = 'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT')) "
            f"AND source_id IN {runs} ORDER BY destination_id"
        ),
        {"eid": eid},
    )
    for m in models:
        if m.source_type == "RUN_INPUT":
            parts[m.source_id]["model_inputs"].append({"model_id": m.destination_id})
        else:
            parts[m.source_id]["model_outputs"].append({"model_id": m.destination_id, "step": m.step})
