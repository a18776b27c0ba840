"""Assessments (feedback and expectations) on traces: stored as their serialized message beside the
columns filters use (name, kind, a flat value, validity)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from google.protobuf import json_format
from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import invalid_parameter, not_found
from sqlalchemy import Connection, delete, select, update

from runstash_metadata.tracing.convert import parse_rfc3339, rfc3339
from runstash_metadata.tracing.schema import trace_assessments, trace_info

ta = trace_assessments.c
# update_mask paths (either spelling) -> the Assessment field they replace.
_MASKABLE = {
    "assessment_name": "assessment_name", "assessmentName": "assessment_name",
    "expectation": "expectation", "feedback": "feedback", "rationale": "rationale",
    "metadata": "metadata", "valid": "valid", "overrides": "overrides", "error": "error",
}  # fmt: skip


def _flat(assessment: pb.Assessment) -> tuple[str, str | None]:
    kind = assessment.WhichOneof("value")
    if kind not in ("feedback", "expectation"):
        raise invalid_parameter("An assessment needs a feedback or an expectation.")
    holder = getattr(assessment, kind)
    if not holder.HasField("value"):
        return kind, None
    value: Any = json_format.MessageToDict(holder.value)
    return kind, value if isinstance(value, str) else json.dumps(value)


def _row(assessment: pb.Assessment) -> dict[str, Any]:
    kind, value = _flat(assessment)
    return {
        "assessment_id": assessment.assessment_id,
        "trace_id": assessment.trace_id,
        "name": assessment.assessment_name,
        "kind": kind,
        "value": value,
        "valid": assessment.valid if assessment.HasField("valid") else True,
        "create_time": parse_rfc3339(assessment.create_time),
        "last_update_time": parse_rfc3339(assessment.last_update_time),
        "body": assessment.SerializeToString(),
    }


def create(conn: Connection, assessment: pb.Assessment, now_ms: int) -> pb.Assessment:
    if not assessment.trace_id:
        raise invalid_parameter("Missing value for required parameter 'assessment.trace_id'.")
    if not assessment.assessment_name:
        raise invalid_parameter("Missing value for required parameter 'assessment.assessment_name'.")
    if (
        conn.execute(
            select(trace_info.c.trace_id).where(trace_info.c.trace_id == assessment.trace_id)
        ).first()
        is None
    ):
        raise not_found(f"Trace with ID {assessment.trace_id} not found.")
    stored = pb.Assessment()
    stored.CopyFrom(assessment)
    stored.assessment_id = "a-" + uuid.uuid4().hex
    if not stored.create_time:
        stored.create_time = rfc3339(now_ms)
    stored.last_update_time = stored.create_time
    if not stored.HasField("valid"):
        stored.valid = True
    if stored.overrides:
        _invalidate(conn, stored.trace_id, stored.overrides)
    conn.execute(trace_assessments.insert(), [_row(stored)])
    return stored


def _invalidate(conn: Connection, trace_id: str, assessment_id: str) -> None:
    old = get(conn, trace_id, assessment_id)
    old.valid = False
    conn.execute(
        update(trace_assessments)
        .where(ta.assessment_id == assessment_id)
        .values(valid=False, body=old.SerializeToString())
    )


def get(conn: Connection, trace_id: str, assessment_id: str) -> pb.Assessment:
    query = select(ta.body).where(ta.assessment_id == assessment_id, ta.trace_id == trace_id)
    row = conn.execute(query).first()
    if row is None:
        raise not_found(f"Assessment with ID '{assessment_id}' not found for trace '{trace_id}'")
    return pb.Assessment.FromString(bytes(row[0]))


def update_one(
    conn: Connection, trace_id: str, assessment_id: str, change: pb.Assessment, *, mask: str, now_ms: int
) -> pb.Assessment:
    stored = get(conn, trace_id, assessment_id)
    paths = [p.strip() for p in mask.split(",") if p.strip()]
    for path in paths:
        name = _MASKABLE.get(path)
        if name is None:
            raise invalid_parameter(f"Invalid update_mask path '{path}'.")
        if name in ("feedback", "expectation", "error"):
            stored.ClearField(name)  # type: ignore[arg-type]
            getattr(stored, name).CopyFrom(getattr(change, name))
        elif name == "metadata":
            stored.metadata.clear()
            stored.metadata.update(change.metadata)
        else:
            setattr(stored, name, getattr(change, name))
    stored.last_update_time = rfc3339(now_ms)
    row = _row(stored)
    conn.execute(update(trace_assessments).where(ta.assessment_id == assessment_id).values(**row))
    return stored


def delete_one(conn: Connection, trace_id: str, assessment_id: str) -> None:
    get(conn, trace_id, assessment_id)
    conn.execute(delete(trace_assessments).where(ta.assessment_id == assessment_id))
