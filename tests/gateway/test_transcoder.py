"""Golden cases for the JSON <-> protobuf transcoder (mlflow-rest.md §2.2-2.3)."""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from runstash_gateway.transcoder import CodecRegistry, MessageCodec
from runstash_protos import artifacts_pb2 as apb
from runstash_protos import auth_pb2
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

BOTH_TYPE_HINT = "See the API docs for more information about request parameters."


def _class_for(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


REGISTRY = CodecRegistry(_class_for)


def codec(cls: type[Message]) -> MessageCodec:
    return REGISTRY.codec(cls)


def parse(cls: type[Message], document: dict[str, Any]) -> Any:
    return codec(cls).parse_json(document)


def parse_query(cls: type[Message], pairs: list[tuple[str, str]]) -> Any:
    c = codec(cls)
    return c.build(c.checked_query_kwargs(pairs))


def render(message: Message) -> dict[str, Any]:
    return codec(type(message)).to_dict(message)


def error_of(call: Any) -> RunstashError:
    with pytest.raises(RunstashError) as info:
        call()
    return info.value


# ---------------------------------------------------------------- request parsing


def test_snake_and_camel_case_are_both_accepted() -> None:
    snake = parse(pb.CreateRun, {"experiment_id": "1", "start_time": 5, "run_name": "a"})
    camel = parse(pb.CreateRun, {"experimentId": "1", "startTime": 5, "runName": "a"})
    assert snake == camel
    assert camel.experiment_id == "1" and camel.start_time == 5 and camel.run_name == "a"


def test_both_spellings_of_one_field_is_rejected() -> None:
    error = error_of(lambda: parse(pb.CreateRun, {"experiment_id": "1", "experimentId": "2"}))
    assert error.code == ErrorCode.INVALID_PARAMETER_VALUE
    assert (
        error.message
        == "Request specifies both 'experiment_id' and 'experimentId'; provide only one of them."
    )


def test_int64_from_number_or_numeric_string() -> None:
    assert parse(pb.CreateRun, {"start_time": 1700000000000}).start_time == 1700000000000
    assert parse(pb.CreateRun, {"start_time": "1700000000000"}).start_time == 1700000000000
    assert parse(pb.CreateRun, {"start_time": 5.0}).start_time == 5


def test_double_accepts_numbers_numeric_strings_and_special_names() -> None:
    assert parse(pb.LogMetric, {"value": 1}).value == 1.0
    assert parse(pb.LogMetric, {"value": "0.5"}).value == 0.5
    assert math.isnan(parse(pb.LogMetric, {"value": "NaN"}).value)
    assert parse(pb.LogMetric, {"value": "Infinity"}).value == math.inf
    assert parse(pb.LogMetric, {"value": "-Infinity"}).value == -math.inf


def test_double_type_error_uses_mlflows_message() -> None:
    error = error_of(lambda: parse(pb.LogMetric, {"value": "abc"}))
    assert error.message == (
        "Invalid value \"abc\" for parameter 'value' supplied:  Hint: Value was of type 'str'. "
        + BOTH_TYPE_HINT
    )
    boolean = error_of(lambda: parse(pb.LogMetric, {"value": True}))
    assert "Value was of type 'bool'" in boolean.message


def test_string_field_given_a_number_is_a_400_with_mlflows_message() -> None:
    error = error_of(lambda: parse(pb.GetExperiment, {"experiment_id": 0}))
    assert error.http_status == 400
    assert error.message == (
        "Invalid value 0 for parameter 'experiment_id' supplied:  Hint: Value was of type 'int'. "
        + BOTH_TYPE_HINT
    )


def test_nested_type_errors_are_lenient_like_mlflows_parse() -> None:
    # MLflow keeps whatever parsed inside list items; its validation judges the rest (observed 200s)
    metrics = [{"key": "a", "value": 1, "timestamp": 1}, {"key": "b", "value": 2, "timestamp": "x"}]
    message = parse(pb.LogBatch, {"run_id": "r", "metrics": metrics, "params": [{"key": "p", "value": 5}]})
    assert message.metrics[1].key == "b" and not message.metrics[1].HasField("timestamp")
    assert message.params[0].key == "p" and not message.params[0].HasField("value")
    tags = parse(pb.CreateExperiment, {"name": "n", "tags": ["x", None]}).tags
    assert len(tags) == 2 and not tags[0].HasField("key")


def test_top_level_repeated_scalar_error_reports_the_list() -> None:
    error = error_of(lambda: parse(pb.SearchRuns, {"experiment_ids": ["1", 2]}))
    assert error.message.startswith("Invalid value [\"1\",2] for parameter 'experiment_ids' supplied:")
    assert "Value was of type 'list'" in error.message


def test_enum_by_name_or_number_and_unknown_names_are_dropped() -> None:
    assert parse(pb.UpdateRun, {"status": "FINISHED"}).status == pb.FINISHED
    assert parse(pb.UpdateRun, {"status": 4}).status == pb.FAILED
    lenient = parse(pb.UpdateRun, {"run_id": "r", "status": "DONE"})  # MLflow: 200, status unchanged
    assert not lenient.HasField("status") and lenient.run_id == "r"
    unknown_number = error_of(lambda: parse(pb.UpdateRun, {"status": 99}))  # MLflow: 400
    assert unknown_number.message.startswith("Invalid value 99 for parameter 'status' supplied:")


def test_unknown_fields_and_nulls_are_ignored() -> None:
    message = parse(pb.CreateExperiment, {"name": "x", "no_such_field": [1, 2], "artifact_location": None})
    assert message.name == "x" and not message.HasField("artifact_location")


def test_repeated_and_nested_messages() -> None:
    message = parse(
        pb.LogBatch,
        {
            "run_id": "r",
            "metrics": [{"key": "m", "value": "NaN", "timestamp": "3", "step": 2}],
            "params": [{"key": "p", "value": "v"}],
            "tags": [],
        },
    )
    assert message.metrics[0].key == "m" and math.isnan(message.metrics[0].value)
    assert message.metrics[0].timestamp == 3 and message.metrics[0].step == 2
    assert message.params[0].value == "v" and len(message.tags) == 0


def test_repeated_field_requires_a_list() -> None:
    error = error_of(lambda: parse(pb.LogBatch, {"metrics": {"key": "m"}}))
    assert "parameter 'metrics'" in error.message and "type 'dict'" in error.message


def test_map_fields_parse_from_objects() -> None:
    message = parse(apb.MultipartUploadCredential, {"url": "u", "part_number": "2", "headers": {"a": "b"}})
    assert dict(message.headers) == {"a": "b"} and message.part_number == 2


def test_int32_out_of_range_is_rejected() -> None:
    error = error_of(lambda: parse(pb.SearchRuns, {"max_results": 2**31}))
    assert "parameter 'max_results'" in error.message


# ---------------------------------------------------------------- GET query strings


def test_query_repeated_keys_collect_and_single_key_is_still_a_list() -> None:
    many = parse_query(
        pb.GetMetricHistoryBulkInterval, [("run_ids", "a"), ("run_ids", "b"), ("metric_key", "m")]
    )
    assert list(many.run_ids) == ["a", "b"] and many.metric_key == "m"
    one = parse_query(pb.GetMetricHistoryBulkInterval, [("run_ids", "a")])
    assert list(one.run_ids) == ["a"]


def test_query_scalars_are_coerced() -> None:
    message = parse_query(
        pb.SearchExperiments, [("max_results", "1000"), ("view_type", "ALL"), ("order_by", "name DESC")]
    )
    assert (
        message.max_results == 1000
        and message.view_type == pb.ALL
        and list(message.order_by) == ["name DESC"]
    )
    assert parse_query(pb.SearchExperiments, [("view_type", "2")]).view_type == pb.DELETED_ONLY


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("True", True), ("FALSE", False), ("false", False)]
)
def test_query_booleans_any_case(raw: str, expected: bool) -> None:
    assert parse_query(pb.GetLoggedModel, [("allow_deleted", raw)]).allow_deleted is expected


def test_query_boolean_other_values_are_rejected() -> None:
    error = error_of(lambda: parse_query(pb.GetLoggedModel, [("allow_deleted", "yes")]))
    assert error.message == "Invalid boolean value: yes, must be 'true' or 'false'."


def test_query_int_type_error() -> None:
    error = error_of(lambda: parse_query(pb.SearchExperiments, [("max_results", "abc")]))
    assert error.message.startswith("Invalid value \"abc\" for parameter 'max_results' supplied")


def test_query_never_sets_message_fields() -> None:
    message = parse_query(pb.SearchLoggedModels, [("datasets", "x"), ("max_results", "5")])
    assert len(message.datasets) == 0 and message.max_results == 5


# ---------------------------------------------------------------- response rendering


def test_presence_set_defaults_are_emitted_unset_fields_are_not() -> None:
    metric = pb.Metric(key="k", value=0.0, timestamp=0, step=0)
    assert render(metric) == {"key": "k", "value": 0.0, "timestamp": 0, "step": 0}
    assert render(pb.Metric(key="k")) == {"key": "k"}


def test_empty_repeated_is_omitted_and_set_empty_message_is_an_object() -> None:
    run = pb.Run(info=pb.RunInfo(run_id="r"), inputs=pb.RunInputs())
    assert render(run) == {"info": {"run_id": "r"}, "inputs": {}}
    assert render(pb.SearchRuns.Response()) == {}


def test_int64_renders_as_json_number() -> None:
    body = orjson.dumps(render(pb.RunInfo(start_time=1795736023269)))
    assert body == b'{"start_time":1795736023269}'


def test_non_finite_doubles_render_as_strings() -> None:
    rendered = [
        render(pb.Metric(value=v))["value"] for v in (math.nan, math.inf, -math.inf, 0.754922703318363)
    ]
    assert rendered == ["NaN", "Infinity", "-Infinity", 0.754922703318363]


def test_enums_render_by_name_and_maps_as_objects() -> None:
    assert render(pb.RunInfo(status=pb.FINISHED)) == {"status": "FINISHED"}
    assert render(apb.GetPresignedDownloadUrl.Response(url="u", headers={"x": "y"}, file_size=3)) == {
        "url": "u",
        "headers": {"x": "y"},
        "file_size": 3,
    }


def test_round_trip_preserves_everything() -> None:
    original = pb.LogBatch(
        run_id="r",
        metrics=[pb.Metric(key="m", value=math.inf, timestamp=1, step=0)],
        params=[pb.Param(key="p", value="")],
    )
    assert parse(pb.LogBatch, orjson.loads(orjson.dumps(render(original)))) == original


def test_log_batch_of_1000_metrics_transcodes_in_milliseconds() -> None:
    document = {
        "run_id": "r",
        "metrics": [
            {"key": f"m{i % 10}", "value": i * 0.5, "timestamp": 1700000000000 + i, "step": i}
            for i in range(1000)
        ],
    }
    raw = orjson.dumps(document)
    c = codec(pb.LogBatch)
    best = math.inf
    for _ in range(20):
        start = time.perf_counter()
        message: Any = c.parse_json(orjson.loads(raw))
        best = min(best, time.perf_counter() - start)
    assert len(message.metrics) == 1000 and message.metrics[999].step == 999
    # Budget on a shared 2-core box: ~1-2 ms measured; fail only on a gross regression.
    assert best < 0.010, f"log-batch parse took {best * 1000:.2f} ms"


@pytest.mark.parametrize("count", [0, 1, 5, 6, 17])
def test_large_repeated_fields_render_in_pieces_to_the_same_json(count: int) -> None:
    response = pb.SearchRuns.Response(
        runs=[pb.Run(info=pb.RunInfo(run_id=f"r{i}", start_time=i)) for i in range(count)],
        next_page_token="tok",
    )
    c = codec(pb.SearchRuns.Response)
    whole = orjson.dumps(c.to_dict(response))
    rendered = c.render_json(response, stream_above=5)
    if count <= 5:
        assert rendered == whole
    else:
        assert not isinstance(rendered, bytes)
        pieces = list(rendered)
        assert len(pieces) > 2 and b"".join(pieces) == whole
    empty = c.render_json(pb.SearchRuns.Response(), stream_above=0)
    assert empty == b"{}"


def test_auth_lists_are_rendered_even_when_empty() -> None:
    # MLflow's auth client reads resp["users"] / resp["roles"] without a default.
    assert render(auth_pb2.ListUsers.Response()) == {"users": []}
    # Tracking messages keep protobuf JSON's rule: an empty repeated field is left out.
    assert render(pb.SearchRuns.Response()) == {}
