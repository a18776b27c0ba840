"""Property test: the gateway's transcoder against google.protobuf.json_format.

On the fields where MLflow's wire format and protobuf's canonical JSON agree (strings, doubles
with NaN/Infinity as strings, booleans, enums by name, repeated and nested messages, MLflow's
snake_case names), the transcoder must render and parse exactly as json_format does. The one
known difference is normalised before comparing: MLflow writes int64 as JSON numbers, json_format
as strings.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runstash_gateway.transcoder import CodecRegistry
from runstash_protos import metadata_pb2 as pb

REGISTRY = CodecRegistry(message_factory.GetMessageClass)
_INT64 = (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT64)

texts = st.text(max_size=20)
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
doubles = st.floats(allow_nan=True, allow_infinity=True)

metrics = st.builds(pb.Metric, key=texts, value=doubles, timestamp=int64s, step=int64s)
params = st.builds(pb.Param, key=texts, value=texts)
tags = st.builds(pb.RunTag, key=texts, value=texts)
experiment_tags = st.builds(pb.ExperimentTag, key=texts, value=texts)
run_infos = st.builds(
    pb.RunInfo,
    run_id=texts,
    experiment_id=texts,
    run_name=texts,
    user_id=texts,
    status=st.sampled_from([pb.RUNNING, pb.FINISHED, pb.FAILED, pb.KILLED, pb.SCHEDULED]),
    start_time=int64s,
    artifact_uri=texts,
    lifecycle_stage=st.sampled_from(["active", "deleted"]),
)
messages: st.SearchStrategy[Message] = st.one_of(
    metrics,
    params,
    tags,
    run_infos,
    st.builds(
        pb.LogBatch,
        run_id=texts,
        metrics=st.lists(metrics, max_size=4),
        params=st.lists(params, max_size=4),
        tags=st.lists(tags, max_size=4),
    ),
    st.builds(
        pb.CreateExperiment, name=texts, artifact_location=texts, tags=st.lists(experiment_tags, max_size=3)
    ),
    st.builds(
        pb.Run,
        info=run_infos,
        data=st.builds(
            pb.RunData,
            metrics=st.lists(metrics, max_size=3),
            params=st.lists(params, max_size=3),
            tags=st.lists(tags, max_size=3),
        ),
    ),
    st.builds(pb.SetTag, run_id=texts, key=texts, value=texts),
)


def _numbers_for_int64(value: Any, descriptor: Any) -> Any:
    """json_format's dict with int64 strings turned into numbers (MLflow's convention)."""
    out: dict[str, Any] = {}
    for name, item in value.items():
        field = descriptor.fields_by_name[name]
        if field.message_type is not None:
            if field.is_repeated:
                out[name] = [_numbers_for_int64(element, field.message_type) for element in item]
            else:
                out[name] = _numbers_for_int64(item, field.message_type)
        elif field.type in _INT64:
            out[name] = [int(v) for v in item] if field.is_repeated else int(item)
        else:
            out[name] = item
    return out


def _canonical(message: Message) -> dict[str, Any]:
    as_dict = json_format.MessageToDict(message, preserving_proto_field_name=True)
    canonical: dict[str, Any] = _numbers_for_int64(as_dict, message.DESCRIPTOR)
    return canonical


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_render_agrees_with_json_format(message: Message) -> None:
    assert REGISTRY.codec(type(message)).to_dict(message) == _canonical(message)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_parse_agrees_with_json_format(message: Message) -> None:
    document = json_format.MessageToDict(message, preserving_proto_field_name=True)
    expected = json_format.ParseDict(document, type(message)())
    parsed = REGISTRY.codec(type(message)).parse_json(_canonical(message))
    assert parsed.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
