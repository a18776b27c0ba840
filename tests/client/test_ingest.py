"""The ingest stream and asynchronous logging against a real `runstash server --grpc-port`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from runstash.batching import column_metrics
from runstash.client import Client
from runstash.connection import Endpoint
from runstash.ingest import AsyncLogger
from runstash.spool import read_spool, spool_files
from runstash_protos import ingest_pb2, ingest_pb2_grpc
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

from tests.client.conftest import GrpcServer
from tests.conftest import SERVER_VENV, free_port


def _run(client: Client, name: str) -> str:
    experiment = client.set_experiment(name)
    return client.create_run(experiment, run_name=name).info.run_id


def _history_len(client: Client, run_id: str, key: str) -> int:
    return len(client.get_metric_history(run_id, key))


def test_async_logging_stores_everything_by_flush(grpc_server: GrpcServer, tmp_path: Path) -> None:
    with Client(grpc_server.target) as client:
        run_id = _run(client, "ingest-basic")
        logger = AsyncLogger(Endpoint.from_uri(grpc_server.target), spool_dir=tmp_path)
        for step in range(2500):
            logger.log_metric(run_id, "loss", 1.0 / (step + 1), step, timestamp=1000 + step)
            logger.log_metric(run_id, "acc", step / 2500, step, timestamp=1000 + step)
        done = logger.log_batch(
            run_id,
            metrics=[pb.Metric(key="lr", value=0.1 * i, timestamp=5, step=i) for i in range(1500)],
            params=[pb.Param(key=f"p{i}", value=str(i)) for i in range(150)],
            tags=[pb.RunTag(key="phase", value="train")],
        )
        logger.flush()
        assert done.done() and done.exception() is None
        logger.close()
        assert _history_len(client, run_id, "loss") == 2500
        assert _history_len(client, run_id, "acc") == 2500
        assert _history_len(client, run_id, "lr") == 1500
        run = client.get_run(run_id)
        assert {p.key: p.value for p in run.data.params}["p149"] == "149"
        assert {t.key: t.value for t in run.data.tags}["phase"] == "train"
        assert not list(spool_files(tmp_path))


def test_a_rejected_batch_surfaces_at_flush_and_the_rest_is_stored(
    grpc_server: GrpcServer, tmp_path: Path
) -> None:
    with Client(grpc_server.target) as client:
        run_id = _run(client, "ingest-errors")
        logger = AsyncLogger(Endpoint.from_uri(grpc_server.target), spool_dir=tmp_path)
        bad = logger.log_batch("0" * 32, metrics=[pb.Metric(key="x", value=1.0, timestamp=1, step=0)])
        for step in range(100):
            logger.log_metric(run_id, "ok", 1.0, step, timestamp=1)
        with pytest.raises(RunstashError) as raised:
            logger.flush()
        assert raised.value.code is ErrorCode.RESOURCE_DOES_NOT_EXIST
        assert isinstance(bad.exception(), RunstashError)
        logger.flush()  # the error was reported once; the logger goes on
        logger.close()
        assert _history_len(client, run_id, "ok") == 100


def test_a_resent_batch_is_stored_once(grpc_server: GrpcServer) -> None:
    """What a retry after a lost acknowledgement does: the same batch twice, in two streams."""
    with Client(grpc_server.target) as client:
        run_id = _run(client, "ingest-resend")
        batch = ingest_pb2.IngestBatch(
            run_id=run_id,
            sequence=1,
            idempotency_key="job-1",
            metrics=[pb.Metric(key="m", value=float(i), timestamp=7, step=i) for i in range(998)],
            params=[pb.Param(key="lr", value="0.1")],
            tags=[pb.RunTag(key="t", value="v")],
        )
        stub = ingest_pb2_grpc.IngestServiceStub(client._channel)
        for _ in range(2):
            acks = list(stub.Ingest(iter([batch])))
            assert [(a.sequence, a.stored) for a in acks] == [(1, True)]
        assert _history_len(client, run_id, "m") == 998


def test_offline_spool_then_sync_stores_each_point_once(grpc_server: GrpcServer, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    with Client(grpc_server.target) as client:
        run_id = _run(client, "ingest-offline")
        # Nothing listens on this port: the logger goes offline after the bound and spools.
        dead = Endpoint.from_uri(f"127.0.0.1:{free_port()}")
        logger = AsyncLogger(dead, spool_dir=spool, offline_after=0.5)
        for step in range(3000):
            logger.log_metric(run_id, "m", float(step), step, timestamp=11)
        logger.flush()
        assert logger.offline
        logger.close()
        files = spool_files(spool)
        assert len(files) == 1
        assert sum(len(column_metrics(b)) for b in read_spool(files[0])) == 3000
        kept = tmp_path / "copy.spool"
        shutil.copy(files[0], kept)

        runstash = str(SERVER_VENV / "bin" / "runstash")
        uri = f"runstash://{grpc_server.target}"
        out = subprocess.run(
            [runstash, "sync", str(spool), "--tracking-uri", uri], check=False, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert "replayed 3 batches from 1 spool files" in out.stdout
        assert not spool_files(spool)
        assert _history_len(client, run_id, "m") == 3000

        # Replaying the same spool again (a sync interrupted after the server stored it) adds nothing.
        spool.mkdir(exist_ok=True)
        shutil.copy(kept, spool / "again.spool")
        out = subprocess.run(
            [runstash, "sync", str(spool), "--tracking-uri", uri], check=False, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert _history_len(client, run_id, "m") == 3000


def test_column_batches_are_checked_like_log_batch_and_a_resent_one_is_stored_once(
    grpc_server: GrpcServer,
) -> None:
    """Raw column batches on one stream: good ones (the second on the grouped path), malformed
    columns and a bad key rejected with the batch's own error and nothing of it stored, a resend."""
    with Client(grpc_server.target) as client:
        run_id = _run(client, "ingest-columns")

        def batch(
            sequence: int, keys: list[str], index: list[int], steps: list[int]
        ) -> ingest_pb2.IngestBatch:
            columns = ingest_pb2.MetricColumns(
                keys=keys,
                key_index=index,
                values=[0.5] * len(steps),
                timestamps=[9] * len(steps),
                steps=steps,
            )
            return ingest_pb2.IngestBatch(
                run_id=run_id, sequence=sequence, idempotency_key=f"c-{sequence}", columns=columns
            )

        good = batch(1, ["a", "b"], [0, 1] * 400, list(range(800)))
        batches = [
            good,
            batch(2, ["a"], [0] * 100, list(range(800, 900))),
            batch(3, ["a"], [0, 1], [5000, 5001]),  # index 1 is not in the key table
            batch(4, ["a"], [0, 0], [6000]),  # arrays of different lengths
            batch(5, ["a", "bad key!"], [0, 1], [7000, 7001]),  # a key LogBatch rejects
            batch(6, ["a"], [0] * 1001, list(range(8000, 9001))),  # over the batch limit
        ]
        stub = ingest_pb2_grpc.IngestServiceStub(client._channel)
        acks = list(stub.Ingest(iter(batches)))
        assert [(a.sequence, a.stored) for a in acks] == [(i + 1, i < 2) for i in range(6)]
        assert {a.error_code for a in acks[2:]} == {ErrorCode.INVALID_PARAMETER_VALUE.value}
        assert [a.idempotency_key for a in acks] == [f"c-{i + 1}" for i in range(6)]
        assert _history_len(client, run_id, "a") == 500
        assert _history_len(client, run_id, "b") == 400
        assert [a.stored for a in stub.Ingest(iter([good]))] == [True]  # a resend: stored once
        assert _history_len(client, run_id, "a") == 500
        latest = {m.key: (m.step, m.value) for m in client.get_run(run_id).data.metrics}
        assert latest == {"a": (899, 0.5), "b": (799, 0.5)}
