"""Request validation for logged models: required fields, the model-name rule, search inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from runstash_metadata import validation as v
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

HINT = " See the API docs for more information about request parameters."


@dataclass(frozen=True)
class Case:
    """``call`` passes when ``message`` is None, else raises ``code`` with exactly ``message``."""

    id: str
    call: Callable[[], Any]
    message: str | None = None
    code: ErrorCode = ErrorCode.INVALID_PARAMETER_VALUE


def run_case(case: Case) -> None:
    if case.message is None:
        case.call()
        return
    with pytest.raises(RunstashError) as info:
        case.call()
    assert info.value.code == case.code
    assert info.value.message == case.message


def cases(*items: Case) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", items, ids=[c.id for c in items])


def missing(field: str) -> str:
    return f"Missing value for required parameter '{field}'.{HINT}"


def bad_id(value: str) -> str:
    return f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer."


BAD_NAME = (
    "Invalid model name ({}) provided. Model name must be a non-empty string and cannot contain the"
    " following characters: ('/', ':', '.', '%', '\"', \"'\")"
)


def create(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_create_logged_model(pb.CreateLoggedModel(**kwargs))


@cases(
    Case("ok", create(experiment_id="1", name="model", model_type="sklearn", source_run_id="r")),
    Case("ok-no-name", create(experiment_id="1")),
    Case("ok-empty-name-means-generated", create(experiment_id="1", name="")),
    Case("ok-name-chars", create(experiment_id="1", name="my model-v2_final (x)")),
    Case(
        "ok-unvalidated-params-tags",
        create(
            experiment_id="1", params=[pb.LoggedModelParameter(key="a$")], tags=[pb.LoggedModelTag(key="")]
        ),
    ),
    Case("missing-experiment", create(name="m"), missing("experiment_id")),
    Case("empty-experiment", create(experiment_id=""), missing("experiment_id")),
    Case("bad-experiment", create(experiment_id="abc"), bad_id("abc")),
    Case("name-dot", create(experiment_id="1", name="a.b"), BAD_NAME.format("'a.b'")),
    Case("name-slash", create(experiment_id="1", name="a/b"), BAD_NAME.format("'a/b'")),
    Case("name-colon", create(experiment_id="1", name="a:b"), BAD_NAME.format("'a:b'")),
    Case("name-percent", create(experiment_id="1", name="100%"), BAD_NAME.format("'100%'")),
    Case("name-single-quote", create(experiment_id="1", name="a'b"), BAD_NAME.format('"a\'b"')),
    Case("name-double-quote", create(experiment_id="1", name='a"b'), BAD_NAME.format("'a\"b'")),
    Case("name-before-experiment-id", create(experiment_id="abc", name="a.b"), BAD_NAME.format("'a.b'")),
)
def test_create_logged_model(case: Case) -> None:
    run_case(case)


@cases(
    Case("get-ok", lambda: v.check_get_logged_model(pb.GetLoggedModel(model_id="m-1", allow_deleted=True))),
    Case("get-missing", lambda: v.check_get_logged_model(pb.GetLoggedModel()), missing("model_id")),
    Case(
        "finalize-ok",
        lambda: v.check_finalize_logged_model(
            pb.FinalizeLoggedModel(model_id="m-1", status=pb.LOGGED_MODEL_READY)
        ),
    ),
    Case(
        "finalize-unspecified-ok",
        lambda: v.check_finalize_logged_model(
            pb.FinalizeLoggedModel(model_id="m-1", status=pb.LOGGED_MODEL_STATUS_UNSPECIFIED)
        ),
    ),
    Case(
        "finalize-missing-id",
        lambda: v.check_finalize_logged_model(pb.FinalizeLoggedModel(status=pb.LOGGED_MODEL_READY)),
        missing("model_id"),
    ),
    Case(
        "finalize-missing-status",
        lambda: v.check_finalize_logged_model(pb.FinalizeLoggedModel(model_id="m-1")),
        missing("status"),
    ),
    Case("delete-ok", lambda: v.check_delete_logged_model(pb.DeleteLoggedModel(model_id="m-1"))),
    Case(
        "delete-missing",
        lambda: v.check_delete_logged_model(pb.DeleteLoggedModel(model_id="")),
        missing("model_id"),
    ),
    Case(
        "set-tags-ok",
        lambda: v.check_set_logged_model_tags(
            pb.SetLoggedModelTags(model_id="m-1", tags=[pb.LoggedModelTag(key="k")])
        ),
    ),
    Case(
        "set-tags-missing",
        lambda: v.check_set_logged_model_tags(pb.SetLoggedModelTags()),
        missing("model_id"),
    ),
    Case(
        "delete-tag-ok",
        lambda: v.check_delete_logged_model_tag(pb.DeleteLoggedModelTag(model_id="m-1", tag_key="k")),
    ),
    Case(
        "delete-tag-missing-key",
        lambda: v.check_delete_logged_model_tag(pb.DeleteLoggedModelTag(model_id="m-1")),
        missing("tag_key"),
    ),
    Case(
        "delete-tag-missing-id",
        lambda: v.check_delete_logged_model_tag(pb.DeleteLoggedModelTag(tag_key="k")),
        missing("model_id"),
    ),
    Case("params-ok", lambda: v.check_log_logged_model_params(pb.LogLoggedModelParams(model_id="m-1"))),
    Case(
        "params-missing",
        lambda: v.check_log_logged_model_params(pb.LogLoggedModelParams()),
        missing("model_id"),
    ),
)
def test_logged_model_id_requests(case: Case) -> None:
    run_case(case)


def search(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_search_logged_models(pb.SearchLoggedModels(**kwargs))


def search_empty_ids(**kwargs: Any) -> Callable[[], None]:
    """A request whose JSON held ``"experiment_ids": []`` (the gateway names it present-empty)."""
    return lambda: v.check_search_logged_models(pb.SearchLoggedModels(**kwargs), {"experiment_ids"})


Dataset = pb.SearchLoggedModels.Dataset
OrderBy = pb.SearchLoggedModels.OrderBy


@cases(
    Case("ok-empty", search_empty_ids()),
    Case("absent-experiment-ids", search(), missing("experiment_ids")),
    Case(
        "ok-full",
        search(
            experiment_ids=["0", "4"],
            filter="name = 'model'",
            datasets=[Dataset(dataset_name="d", dataset_digest="x")],
            order_by=[OrderBy(field_name="metrics.acc", ascending=False)],
            max_results=0,
        ),
    ),
    Case("ok-large-page", search(experiment_ids=["1"], max_results=100000)),
    Case(
        "dataset-without-name",
        search_empty_ids(datasets=[Dataset(dataset_name="d"), Dataset(dataset_digest="x")]),
        "`dataset_name` in the `datasets` clause must be specified.",
    ),
    Case("bad-experiment", search(experiment_ids=["abc"]), bad_id("abc")),
    Case(
        "order-without-field",
        search_empty_ids(order_by=[OrderBy(ascending=True)]),
        "Invalid order by field name: ",
    ),
    Case(
        "negative-page",
        search_empty_ids(max_results=-1),
        "Invalid value -1 for parameter 'max_results' supplied. It must be a positive integer",
    ),
)
def test_search_logged_models(case: Case) -> None:
    run_case(case)


def test_gateway_message_for_absent_experiment_ids() -> None:
    assert v.experiment_ids_required_message() == (
        "Missing value for required parameter 'experiment_ids'. See the API docs for more information about"
        " request parameters."
    )
