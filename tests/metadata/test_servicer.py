"""MetadataServicer in process: validation first, then the store, then spec-shaped responses."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToDict
from runstash_metadata.servicer import MetadataServicer
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

CTX = object()  # the servicer must not depend on the gRPC context


def _create_run(servicer: MetadataServicer, unique: Callable[[str], str]) -> tuple[str, str]:
    exp = servicer.CreateExperiment(pb.CreateExperiment(name=unique("exp")), CTX).experiment_id
    run = servicer.CreateRun(pb.CreateRun(experiment_id=exp, start_time=7, user_id="u"), CTX).run
    return exp, run.info.run_id


def test_create_run_response_shape(servicer: MetadataServicer, unique: Callable[[str], str]) -> None:
    exp = servicer.CreateExperiment(pb.CreateExperiment(name=unique("exp")), CTX).experiment_id
    response = servicer.CreateRun(pb.CreateRun(experiment_id=exp, start_time=7), CTX)
    body = MessageToDict(response, preserving_proto_field_name=True)
    info = body["run"]["info"]
    assert info["run_id"] == info["run_uuid"]
    assert info["status"] == "RUNNING" and info["user_id"] == "" and info["start_time"] == "7"
    assert body["run"]["inputs"] == {}
    assert "outputs" not in body["run"]
    got = servicer.GetExperiment(pb.GetExperiment(experiment_id=exp), CTX).experiment
    assert got.workspace == "default"


def test_create_run_name_and_tag_must_agree(servicer: MetadataServicer, unique: Callable[[str], str]) -> None:
    exp = servicer.CreateExperiment(pb.CreateExperiment(name=unique("exp")), CTX).experiment_id
    conflicting = pb.CreateRun(
        experiment_id=exp, run_name="a", tags=[pb.RunTag(key="mlflow.runName", value="b")]
    )
    with pytest.raises(RunstashError) as info:
        servicer.CreateRun(conflicting, CTX)
    assert (info.value.code, info.value.message) == (
        ErrorCode.INVALID_PARAMETER_VALUE,
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
        "(run_name='a', mlflow.runName='b').",
    )
    found = servicer.SearchRuns(pb.SearchRuns(experiment_ids=[exp]), CTX)
    assert list(found.runs) == []  # nothing was created


def test_long_param_and_tag_values_are_cut_once_when_truncation_is_on(
    servicer: MetadataServicer, unique: Callable[[str], str]
) -> None:
    _, run_id = _create_run(servicer, unique)
    servicer.LogParam(pb.LogParam(run_id=run_id, key="single", value="p" * 7000), CTX)
    servicer.SetTag(pb.SetTag(run_id=run_id, key="single", value="t" * 9000), CTX)
    servicer.LogBatch(
        pb.LogBatch(
            run_id=run_id,
            params=[pb.Param(key="batch", value="q" * 6001)],
            tags=[pb.RunTag(key="batch", value="u" * 8001)],
        ),
        CTX,
    )
    data = servicer.GetRun(pb.GetRun(run_id=run_id), CTX).run.data
    assert {p.key: p.value for p in data.params} == {"single": "p" * 6000, "batch": "q" * 6000}
    tags = {t.key: t.value for t in data.tags}
    assert (tags["single"], tags["batch"]) == ("t" * 8000, "u" * 8000)


def test_get_run_has_inputs_and_outputs(servicer: MetadataServicer, unique: Callable[[str], str]) -> None:
    _, run_id = _create_run(servicer, unique)
    body = MessageToDict(servicer.GetRun(pb.GetRun(run_uuid=run_id), CTX), preserving_proto_field_name=True)
    assert body["run"]["inputs"] == {} and body["run"]["outputs"] == {}


def test_log_batch_invalid_item_changes_nothing(
    servicer: MetadataServicer, unique: Callable[[str], str]
) -> None:
    _, run_id = _create_run(servicer, unique)
    bad = pb.LogBatch(
        run_id=run_id,
        metrics=[pb.Metric(key="ok", value=1.0, timestamp=1), pb.Metric(key="bad", value=1.0)],
        params=[pb.Param(key="p", value="v")],
    )
    with pytest.raises(RunstashError) as info:
        servicer.LogBatch(bad, CTX)
    assert info.value.code == ErrorCode.INVALID_PARAMETER_VALUE
    assert "metrics[1].timestamp" in info.value.message
    run = servicer.GetRun(pb.GetRun(run_id=run_id), CTX).run
    assert list(run.data.metrics) == [] and list(run.data.params) == []


def test_log_metric_nan_and_inf_roundtrip(servicer: MetadataServicer, unique: Callable[[str], str]) -> None:
    _, run_id = _create_run(servicer, unique)
    servicer.LogMetric(pb.LogMetric(run_id=run_id, key="n", value=math.nan, timestamp=1), CTX)
    servicer.LogMetric(pb.LogMetric(run_uuid=run_id, key="i", value=math.inf, timestamp=1, step=3), CTX)
    metrics = {m.key: m for m in servicer.GetRun(pb.GetRun(run_id=run_id), CTX).run.data.metrics}
    assert math.isnan(metrics["n"].value)
    assert metrics["i"].value == 1.7976931348623157e308 and metrics["i"].step == 3
    history = servicer.GetMetricHistory(pb.GetMetricHistory(run_id=run_id, metric_key="i"), CTX)
    assert [m.step for m in history.metrics] == [3] and not history.HasField("next_page_token")


def test_errors_keep_codes(servicer: MetadataServicer) -> None:
    with pytest.raises(RunstashError) as info:
        servicer.GetExperiment(pb.GetExperiment(experiment_id="abc"), CTX)
    assert info.value.message == "Invalid experiment ID 'abc'. Experiment ID must be a valid integer."
    with pytest.raises(RunstashError) as info:
        servicer.GetRun(pb.GetRun(run_id="f" * 32), CTX)
    assert info.value.code == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_update_run_and_finalize_model(servicer: MetadataServicer, unique: Callable[[str], str]) -> None:
    exp, run_id = _create_run(servicer, unique)
    info = servicer.UpdateRun(pb.UpdateRun(run_id=run_id, status=pb.FINISHED, end_time=9), CTX).run_info
    assert (info.status, info.end_time) == (pb.FINISHED, 9)
    model = servicer.CreateLoggedModel(
        pb.CreateLoggedModel(experiment_id=exp, source_run_id=run_id), CTX
    ).model
    body = MessageToDict(model, preserving_proto_field_name=True)
    assert body["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert body["info"]["model_type"] == ""
    done = servicer.FinalizeLoggedModel(
        pb.FinalizeLoggedModel(model_id=model.info.model_id, status=pb.LOGGED_MODEL_READY), CTX
    ).model
    assert done.info.status == pb.LOGGED_MODEL_READY
    empty = servicer.SetLoggedModelTags(
        pb.SetLoggedModelTags(model_id=model.info.model_id, tags=[pb.LoggedModelTag(key="k", value="v")]), CTX
    )
    assert not empty.HasField("model")


def test_search_runs_empty_is_empty(servicer: MetadataServicer) -> None:
    response = servicer.SearchRuns(pb.SearchRuns(), CTX)
    assert MessageToDict(response) == {}


class PresentEmptyContext:
    """What the gateway passes when the JSON body held empty lists for ``fields``."""

    def __init__(self, *fields: str) -> None:
        self.pairs = (("x-runstash-present-empty", ",".join(fields)),) if fields else ()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.pairs


def test_present_but_empty_lists(servicer: MetadataServicer, unique: Callable[[str], str]) -> None:
    _, run_id = _create_run(servicer, unique)
    # logged-models/search: absent experiment_ids is MLflow's 400, an explicit [] an empty page.
    with pytest.raises(RunstashError) as info:
        servicer.SearchLoggedModels(pb.SearchLoggedModels(), PresentEmptyContext())
    assert info.value.code == ErrorCode.INVALID_PARAMETER_VALUE
    assert info.value.message.startswith("Missing value for required parameter 'experiment_ids'.")
    page = servicer.SearchLoggedModels(pb.SearchLoggedModels(), PresentEmptyContext("experiment_ids"))
    assert list(page.models) == [] and not page.next_page_token
    # runs/outputs: "models": [] is accepted (200) and logs nothing; absent models is a 400.
    servicer.LogOutputs(pb.LogOutputs(run_id=run_id), PresentEmptyContext("datasets", "models"))
    run = servicer.GetRun(pb.GetRun(run_id=run_id), CTX).run
    assert list(run.outputs.model_outputs) == []
    with pytest.raises(RunstashError) as info:
        servicer.LogOutputs(pb.LogOutputs(run_id=run_id), PresentEmptyContext())
    assert info.value.message.startswith("Missing value for required parameter 'models'.")


@pytest.mark.parametrize(
    "case",
    [
        ("my_location", "{cwd}/my_location"),
        ("./nested/dir", "{cwd}/nested/dir"),
        ("file:rel", "file://{cwd}/rel"),
        ("/absolute/path", "/absolute/path"),
        ("s3://bucket/key", "s3://bucket/key"),
    ],
)
def test_relative_artifact_location_is_taken_from_the_working_directory(
    servicer: MetadataServicer,
    unique: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str],
) -> None:
    given, stored = case
    # What `mlflow server` answers (checked against 3.17): relative local paths are resolved
    # against the server's working directory when the experiment is created.
    monkeypatch.chdir(tmp_path)
    request = pb.CreateExperiment(name=unique("exp"), artifact_location=given)
    experiment_id = servicer.CreateExperiment(request, CTX).experiment_id
    got = servicer.GetExperiment(pb.GetExperiment(experiment_id=experiment_id), CTX).experiment
    assert got.artifact_location == stored.format(cwd=tmp_path.as_posix())
