"""write_group: one transaction for a group of single writes of several runs; each write gets its
own outcome, and what is written is what the same writes one after another would have written."""

from __future__ import annotations

import math

from runstash_metadata.store.single_writes import SingleWrite, write_group
from runstash_protos.errors import ErrorCode, RunstashError

from tests.metadata.store_driver import StoreDriver


def _code(outcome: BaseException | None) -> ErrorCode | None:
    if outcome is None:
        return None
    assert isinstance(outcome, RunstashError)
    return outcome.code


def test_points_only_group(store: StoreDriver, experiment_id: int) -> None:
    live = store.create_run(experiment_id).info.run_id
    deleted = store.create_run(experiment_id).info.run_id
    store.delete_run(deleted)
    writes = [
        SingleWrite(live, point=("loss", 0.5, 10, 1)),
        SingleWrite(deleted, point=("loss", 1.0, 10, 1)),
        SingleWrite("e" * 32, point=("loss", 1.0, 10, 1)),
        SingleWrite(live, point=("loss", math.nan, 11, 2)),
        SingleWrite(live, point=("loss", 0.5, 10, 1)),  # the same point again: stored once
    ]
    with store.db.transaction() as conn:
        outcomes = write_group(conn, store.q, writes)
    assert [_code(o) for o in outcomes] == [
        None,
        ErrorCode.INVALID_PARAMETER_VALUE,
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
        None,
        None,
    ]
    history, _ = store.get_metric_history(live, "loss")
    assert [(m.step, m.timestamp) for m in history] == [(1, 10), (2, 11)]
    latest = {m.key: m for m in store.get_run(live).data.metrics}["loss"]
    assert latest.step == 2 and math.isnan(latest.value)
    store.restore_run(deleted)
    assert store.get_metric_history(deleted, "loss") == ([], None)


def test_mixed_group_tags_params_and_points(store: StoreDriver, experiment_id: int) -> None:
    a = store.create_run(experiment_id).info.run_id
    b = store.create_run(experiment_id).info.run_id
    store.log_param(b, "lr", "0.1")
    writes = [
        SingleWrite(a, tag=("t", "first")),
        SingleWrite(a, param=("lr", "0.01")),
        SingleWrite(a, point=("acc", 0.9, 5, 0)),
        SingleWrite(a, tag=("t", "second")),  # the last write of a key wins
        SingleWrite(a, param=("lr", "0.02")),  # differs from the first write of the group
        SingleWrite(b, param=("lr", "0.1")),  # same as stored: fine
        SingleWrite(b, param=("lr", "0.3")),  # differs from stored
        SingleWrite(b, tag=("mlflow.runName", "renamed")),
        SingleWrite("f" * 32, tag=("t", "x")),
    ]
    with store.db.transaction() as conn:
        outcomes = write_group(conn, store.q, writes)
    codes = [_code(o) for o in outcomes]
    invalid, missing = ErrorCode.INVALID_PARAMETER_VALUE, ErrorCode.RESOURCE_DOES_NOT_EXIST
    assert codes == [None, None, None, None, invalid, None, invalid, None, missing]
    assert "Param with key='lr' was already logged with value='0.01'" in str(outcomes[4])
    assert "Attempted logging new value '0.3'" in str(outcomes[6])
    run_a, run_b = store.get_run(a), store.get_run(b)
    assert {t.key: t.value for t in run_a.data.tags}["t"] == "second"
    assert {p.key: p.value for p in run_a.data.params} == {"lr": "0.01"}
    assert [(m.key, m.value) for m in run_a.data.metrics] == [("acc", 0.9)]
    assert {p.key: p.value for p in run_b.data.params} == {"lr": "0.1"}
    assert run_b.info.run_name == "renamed"
