"""Requests built to be expensive or to overflow the database answer 400 at once, on every database:
a filter of hundreds of clauses, and page tokens with absurd offsets."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest
from runstash_metadata.search.parser import MAX_FILTER_CLAUSES
from runstash_metadata.servicer import MetadataServicer
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

CTX = None


def _token(raw_json: str, **extra: object) -> str:
    body = raw_json if not extra else json.dumps(extra)[:-1] + ", " + raw_json[1:]
    return base64.b64encode(body.encode()).decode()


# The JSON is written by hand: 1e400 is what a forged token holds (json.dumps cannot write it).
BAD_OFFSETS = {
    "overflowing-float": '{"offset": 1e400}',
    "beyond-64-bits": '{"offset": 100000000000000000000000}',
    "negative": '{"offset": -3}',
    "fraction": '{"offset": 1.5}',
    "not-a-number": '{"offset": "abc"}',
}


def _invalid(call: Callable[[], object]) -> RunstashError:
    with pytest.raises(RunstashError) as info:
        call()
    assert info.value.code == ErrorCode.INVALID_PARAMETER_VALUE, info.value.message
    return info.value


def _run(servicer: MetadataServicer, unique: Callable[[str], str]) -> tuple[str, str]:
    exp = servicer.CreateExperiment(pb.CreateExperiment(name=unique("exp")), CTX).experiment_id
    run_id = servicer.CreateRun(pb.CreateRun(experiment_id=exp, start_time=1), CTX).run.info.run_id
    return exp, run_id


def test_filter_with_hundreds_of_clauses_is_refused_at_once(
    servicer: MetadataServicer, unique: Callable[[str], str]
) -> None:
    exp, _ = _run(servicer, unique)
    many = " and ".join(f"params.x{i} = 'a'" for i in range(200))
    started = time.perf_counter()
    err = _invalid(lambda: servicer.SearchRuns(pb.SearchRuns(experiment_ids=[exp], filter=many), CTX))
    assert time.perf_counter() - started < 1.0
    assert f"more than {MAX_FILTER_CLAUSES} clauses" in err.message
    at_cap = " and ".join(f"params.x{i} = 'a'" for i in range(MAX_FILTER_CLAUSES))
    assert list(servicer.SearchRuns(pb.SearchRuns(experiment_ids=[exp], filter=at_cap), CTX).runs) == []


@pytest.mark.parametrize("raw", BAD_OFFSETS.values(), ids=BAD_OFFSETS.keys())
def test_bad_page_token_offsets_are_invalid_parameters(
    servicer: MetadataServicer, unique: Callable[[str], str], raw: str
) -> None:
    exp, run_id = _run(servicer, unique)
    token = _token(raw)
    search = pb.SearchRuns(experiment_ids=[exp], page_token=token)
    bad_token = _invalid(lambda: servicer.SearchRuns(search, CTX))
    _invalid(lambda: servicer.SearchExperiments(pb.SearchExperiments(max_results=10, page_token=token), CTX))
    _invalid(
        lambda: servicer.GetMetricHistory(
            pb.GetMetricHistory(run_id=run_id, metric_key="m", max_results=5, page_token=token), CTX
        )
    )
    assert bad_token.message.startswith("Invalid page token")
    models_token = _token(raw, experiment_ids=[exp], filter_string=None, order_by=None)
    bad_models_token = _invalid(
        lambda: servicer.SearchLoggedModels(
            pb.SearchLoggedModels(experiment_ids=[exp], page_token=models_token), CTX
        )
    )
    assert bad_models_token.message.startswith("Invalid page token, parsed value=")
