"""Stored trace rows <-> the contract's messages (v3 TraceInfo, legacy v2 TraceInfo, Trace)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import invalid_parameter

from runstash_metadata.tracing.reads import LoadedInfo

_V2_STATUS = {"OK": pb.OK, "ERROR": pb.ERROR, "IN_PROGRESS": pb.IN_PROGRESS}
STATES = {"OK", "ERROR", "IN_PROGRESS"}


def rfc3339(ms: int) -> str:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp.ToJsonString()


def duration(ms: int) -> str:
    value = duration_pb2.Duration()
    value.FromMilliseconds(ms)
    return value.ToJsonString()


def parse_rfc3339(text: str) -> int:
    stamp = timestamp_pb2.Timestamp()
    try:
        stamp.FromJsonString(text)
    except ValueError:
        raise invalid_parameter(f"Invalid timestamp {text!r}: expected RFC 3339.") from None
    return stamp.ToMilliseconds()


def parse_duration(text: str) -> int:
    value = duration_pb2.Duration()
    try:
        value.FromJsonString(text)
    except ValueError:
        raise invalid_parameter(f"Invalid duration {text!r}: expected e.g. '1.5s'.") from None
    return value.ToMilliseconds()


def info_v3(loaded: LoadedInfo) -> pb.TraceInfoV3:
    row = loaded.row
    info = pb.TraceInfoV3(
        trace_id=row.trace_id,
        trace_location=pb.TraceLocation(
            type=pb.TraceLocation.MLFLOW_EXPERIMENT,
            mlflow_experiment=pb.TraceLocation.MlflowExperimentLocation(experiment_id=str(row.experiment_id)),
        ),
        request_time=rfc3339(row.request_time),
        state=pb.TraceInfoV3.State.Value(row.state),
        trace_metadata=loaded.metadata,
        tags=loaded.tags,
    )
    if row.client_request_id is not None:
        info.client_request_id = row.client_request_id
    if row.request_preview is not None:
        info.request_preview = row.request_preview
    if row.response_preview is not None:
        info.response_preview = row.response_preview
    if row.execution_duration is not None:
        info.execution_duration = duration(row.execution_duration)
    for body in loaded.assessments:
        info.assessments.add().MergeFromString(body)
    return info


def info_v2(loaded: LoadedInfo) -> pb.TraceInfo:
    row = loaded.row
    info = pb.TraceInfo(
        request_id=row.trace_id,
        experiment_id=str(row.experiment_id),
        timestamp_ms=row.request_time,
        status=_V2_STATUS.get(row.state, pb.TRACE_STATUS_UNSPECIFIED),
        request_metadata=[pb.TraceRequestMetadata(key=k, value=v) for k, v in loaded.metadata.items()],
        tags=[pb.TraceTag(key=k, value=v) for k, v in loaded.tags.items()],
    )
    if row.execution_duration is not None:
        info.execution_time_ms = row.execution_duration
    return info


def trace(loaded: LoadedInfo, spans: Sequence[bytes]) -> pb.Trace:
    out = pb.Trace(trace_info=info_v3(loaded))
    for body in spans:
        out.spans.add().MergeFromString(body)
    return out


def values_from_v3(info: pb.TraceInfoV3, experiment_id: int) -> dict[str, Any]:
    """The trace_info columns a client's TraceInfoV3 sets (None: not given, keep the stored one)."""
    state = pb.TraceInfoV3.State.Name(info.state) if info.HasField("state") else None
    return {
        "trace_id": info.trace_id,
        "experiment_id": experiment_id,
        "client_request_id": info.client_request_id if info.HasField("client_request_id") else None,
        "request_time": parse_rfc3339(info.request_time) if info.request_time else None,
        "execution_duration": parse_duration(info.execution_duration) if info.execution_duration else None,
        "state": state if state in STATES else None,
        "request_preview": info.request_preview[:1000] if info.HasField("request_preview") else None,
        "response_preview": info.response_preview[:1000] if info.HasField("response_preview") else None,
    }
