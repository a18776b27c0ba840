"""``runstash.traces.TraceService``: validate, run the store functions in one transaction (reads on
the reader), shape the response. Errors are RunstashError, as in the other servicers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from runstash_protos import traces_pb2 as pb
from runstash_protos import traces_pb2_grpc
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter, not_found
from sqlalchemy import Connection, select

from runstash_metadata.store import schema as s
from runstash_metadata.store.database import Database
from runstash_metadata.store.stats import StatsRefresher
from runstash_metadata.store.values import now_ms
from runstash_metadata.tracing import analytics, assessments, convert, reads, search, store
from runstash_metadata.tracing.artifact import trace_json_chunks
from runstash_metadata.tracing.spans import decode_request

DEFAULT_RESULTS = 100


def experiment_number(value: str, field: str = "experiment_id") -> int:
    if not value:
        raise invalid_parameter(f"Missing value for required parameter '{field}'.")
    if not value.isdigit():
        raise invalid_parameter(f"Invalid value {value!r} for parameter '{field}': not an experiment id.")
    return int(value)


def check_experiment(conn: Connection, experiment_id: int) -> str:
    """The active experiment's artifact location (404 / 400 otherwise)."""
    e = s.experiments.c
    query = select(e.lifecycle_stage, e.artifact_location).where(e.experiment_id == experiment_id)
    row = conn.execute(query).first()
    if row is None:
        raise not_found(f"Could not find experiment with ID {experiment_id}")
    if row[0] != s.ACTIVE:
        raise invalid_parameter(f"The experiment {experiment_id} must be in the 'active' state.")
    return str(row[1] or "")


def _tag_target(request: Any) -> str:
    trace_id = request.trace_id or request.request_id
    if not trace_id:
        raise invalid_parameter("Missing value for required parameter 'trace_id'.")
    return str(trace_id)


def _page_size(request: Any) -> int:
    size = request.max_results if request.HasField("max_results") else DEFAULT_RESULTS
    if not 0 < size <= search.MAX_RESULTS:
        raise invalid_parameter(
            f"Invalid value {size} for parameter 'max_results': 1 to {search.MAX_RESULTS}."
        )
    return int(size)


class TraceServicer(traces_pb2_grpc.TraceServiceServicer):
    def __init__(self, db: Database) -> None:
        self.db = db
        self.retention: threading.Event | None = None
        # Bursts of spans leave the planner believing the trace tables are tiny (nested loops over
        # every span): statistics are refreshed each time the ingested span count doubles.
        self._stats = StatsRefresher(db, db.q.trace_analyze_sql) if db.q.trace_analyze_sql else None

    def close(self) -> None:
        """Stop the retention sweeper and the statistics thread (the database is the metadata
        servicer's to close)."""
        if self.retention is not None:
            self.retention.set()
        if self._stats is not None:
            self._stats.close()

    # ------------------------------------------------------------------ helpers

    def _load(self, trace_ids: Sequence[str]) -> dict[str, reads.LoadedInfo]:
        with self.db.reader() as conn:
            return reads.load_infos(conn, trace_ids)

    def _one(self, trace_id: str) -> reads.LoadedInfo:
        if not trace_id:
            raise invalid_parameter("Missing value for required parameter 'trace_id'.")
        found = self._load([trace_id]).get(trace_id)
        if found is None:
            raise not_found(f"Trace with ID '{trace_id}' not found.")
        return found

    def _exists(self, conn: Connection, trace_id: str) -> None:
        if not store.trace_experiments(conn, [trace_id]):
            raise not_found(f"Trace with ID '{trace_id}' not found.")

    # ------------------------------------------------------------------ writes

    def StartTraceV3(self, request: pb.StartTraceV3, context: Any) -> pb.StartTraceV3.Response:
        info = request.trace.trace_info
        if not info.trace_id:
            raise invalid_parameter("Missing value for required parameter 'trace.trace_info.trace_id'.")
        eid = experiment_number(
            info.trace_location.mlflow_experiment.experiment_id,
            "trace_location.mlflow_experiment.experiment_id",
        )
        values = convert.values_from_v3(info, eid)
        tags = {**info.tags, store.SPANS_LOCATION_TAG: "TRACKING_STORE"}
        # The client's TraceInfo arrives once the trace is complete: MLflow marks it final.
        metadata = {**info.trace_metadata, store.INFO_FINALIZED_KEY: "true"}
        with self.db.transaction() as conn:
            location = check_experiment(conn, eid)
            tags.setdefault(store.ARTIFACT_LOCATION_TAG, store.trace_artifacts(location, info.trace_id))
            if values["request_time"] is None:
                values["request_time"] = now_ms()
            store.upsert_info(conn, self.db.q, values, tags, metadata)
        return pb.StartTraceV3.Response(trace=pb.Trace(trace_info=convert.info_v3(self._one(info.trace_id))))

    def StartTrace(self, request: pb.StartTrace, context: Any) -> pb.StartTrace.Response:
        eid = experiment_number(request.experiment_id)
        trace_id = "tr-" + uuid.uuid4().hex
        values = {
            "trace_id": trace_id,
            "experiment_id": eid,
            "request_time": request.timestamp_ms if request.HasField("timestamp_ms") else now_ms(),
            "state": "IN_PROGRESS",
        }
        tags = {t.key: t.value for t in request.tags}
        tags[store.SPANS_LOCATION_TAG] = "TRACKING_STORE"
        with self.db.transaction() as conn:
            tags[store.ARTIFACT_LOCATION_TAG] = store.trace_artifacts(check_experiment(conn, eid), trace_id)
            store.upsert_info(
                conn, self.db.q, values, tags, {m.key: m.value for m in request.request_metadata}
            )
        return pb.StartTrace.Response(trace_info=convert.info_v2(self._one(trace_id)))

    def EndTrace(self, request: pb.EndTrace, context: Any) -> pb.EndTrace.Response:
        loaded = self._one(request.request_id)
        status = pb.TraceStatus.Name(request.status) if request.HasField("status") else None
        values: dict[str, Any] = {
            "trace_id": request.request_id,
            "state": status if status in convert.STATES else None,
        }
        if request.HasField("timestamp_ms"):
            values["execution_duration"] = max(0, request.timestamp_ms - loaded.row.request_time)
        with self.db.transaction() as conn:
            store.upsert_info(
                conn,
                self.db.q,
                values,
                {t.key: t.value for t in request.tags},
                {m.key: m.value for m in request.request_metadata},
            )
        return pb.EndTrace.Response(trace_info=convert.info_v2(self._one(request.request_id)))

    def ExportSpans(self, request: pb.ExportSpans, context: Any) -> pb.ExportSpans.Response:
        eid = experiment_number(request.experiment_id)
        rows = decode_request(request.payload)
        if rows:
            with self.db.transaction() as conn:
                location = check_experiment(conn, eid)
                store.write_spans(conn, self.db.q, eid, rows, request.run_id or None, artifact_root=location)
            if self._stats is not None:
                self._stats.wrote(len(rows))
        return pb.ExportSpans.Response(spans_written=len(rows))

    def SetTraceTag(self, request: pb.SetTraceTag, context: Any) -> pb.SetTraceTag.Response:
        trace_id = _tag_target(request)
        if not request.key:
            raise invalid_parameter("Missing value for required parameter 'key'.")
        with self.db.transaction() as conn:
            if not store.trace_experiments(conn, [trace_id]):
                # MLflow's answer for a tag on an unknown trace (its delete-tag says 404).
                raise RunstashError(ErrorCode.BAD_REQUEST, f"Trace with ID '{trace_id}' not found.")
            store.set_pairs(conn, self.db.q, trace_id, {request.key: request.value}, {})
        return pb.SetTraceTag.Response()

    def DeleteTraceTag(self, request: pb.DeleteTraceTag, context: Any) -> pb.DeleteTraceTag.Response:
        trace_id = _tag_target(request)
        with self.db.transaction() as conn:
            self._exists(conn, trace_id)
            if store.delete_tag(conn, trace_id, request.key) == 0:
                raise not_found(f"No trace tag with key '{request.key}' for trace with ID '{trace_id}'")
        return pb.DeleteTraceTag.Response()

    def DeleteTraces(self, request: pb.DeleteTraces, context: Any) -> pb.DeleteTraces.Response:
        eid = experiment_number(request.experiment_id)
        by_age = request.HasField("max_timestamp_millis")
        if by_age == bool(request.request_ids):
            raise invalid_parameter(
                "Exactly one of 'max_timestamp_millis' and 'request_ids' must be specified."
            )
        if request.HasField("max_traces") and not by_age:
            raise invalid_parameter("'max_traces' can't be specified if 'request_ids' is specified.")
        with self.db.transaction() as conn:
            if by_age:
                limit = request.max_traces if request.HasField("max_traces") else None
                ids = store.oldest_traces(conn, eid, request.max_timestamp_millis, limit)
            else:
                owners = store.trace_experiments(conn, list(request.request_ids))
                ids = [tid for tid, owner in owners.items() if owner == eid]
            deleted = store.delete_traces(conn, ids)
        return pb.DeleteTraces.Response(traces_deleted=deleted)

    def LinkTracesToRun(self, request: pb.LinkTracesToRun, context: Any) -> pb.LinkTracesToRun.Response:
        if not request.run_id:
            raise invalid_parameter("Missing value for required parameter 'run_id'.")
        r = s.runs.c
        with self.db.transaction() as conn:
            if conn.execute(select(r.run_uuid).where(r.run_uuid == request.run_id)).first() is None:
                raise not_found(f"Run with id={request.run_id} not found")
            found = store.trace_experiments(conn, list(request.trace_ids))
            missing = [tid for tid in request.trace_ids if tid not in found]
            if missing:
                raise not_found(f"Trace with ID {missing[0]} not found.")
            store.link_to_run(conn, self.db.q, list(request.trace_ids), request.run_id)
        return pb.LinkTracesToRun.Response()

    # ------------------------------------------------------------------ reads

    def GetTraceInfoV3(self, request: pb.GetTraceInfoV3, context: Any) -> pb.GetTraceInfoV3.Response:
        return pb.GetTraceInfoV3.Response(
            trace=pb.Trace(trace_info=convert.info_v3(self._one(request.trace_id)))
        )

    def GetTraceInfo(self, request: pb.GetTraceInfo, context: Any) -> pb.GetTraceInfo.Response:
        return pb.GetTraceInfo.Response(trace_info=convert.info_v2(self._one(request.request_id)))

    def GetTrace(self, request: pb.GetTrace, context: Any) -> pb.GetTrace.Response:
        loaded = self._one(request.trace_id)
        with self.db.reader() as conn:
            spans = reads.load_spans(conn, [request.trace_id])[request.trace_id]
        return pb.GetTrace.Response(trace=convert.trace(loaded, spans))

    def _batch(self, trace_ids: Sequence[str], experiment_ids: Sequence[str]) -> list[reads.LoadedInfo]:
        loaded = self._load(trace_ids)
        allowed = {int(e) for e in experiment_ids if e.isdigit()} if experiment_ids else None
        out = []
        for tid in dict.fromkeys(trace_ids):
            info = loaded.get(tid)
            if info is not None and (allowed is None or info.row.experiment_id in allowed):
                out.append(info)
        return out

    def BatchGetTraces(self, request: pb.BatchGetTraces, context: Any) -> pb.BatchGetTraces.Response:
        found = self._batch(request.trace_ids, request.experiment_ids)
        with self.db.reader() as conn:
            spans = reads.load_spans(conn, [i.row.trace_id for i in found])
        return pb.BatchGetTraces.Response(traces=[convert.trace(i, spans[i.row.trace_id]) for i in found])

    def BatchGetTraceInfos(
        self, request: pb.BatchGetTraceInfos, context: Any
    ) -> pb.BatchGetTraceInfos.Response:
        found = self._batch(request.trace_ids, request.experiment_ids)
        return pb.BatchGetTraceInfos.Response(trace_infos=[convert.info_v3(i) for i in found])

    def _search(self, experiments: Sequence[int], request: Any) -> tuple[list[reads.LoadedInfo], str | None]:
        size = _page_size(request)
        with self.db.reader() as conn:
            ids, token = search.search(
                conn,
                self.db.q,
                experiments,
                request.filter,
                order_by=list(request.order_by),
                max_results=size,
                page_token=request.page_token,
            )
            loaded = reads.load_infos(conn, ids)
        return [loaded[tid] for tid in ids if tid in loaded], token

    def SearchTracesV3(self, request: pb.SearchTracesV3, context: Any) -> pb.SearchTracesV3.Response:
        experiments = []
        for location in request.locations:
            if location.WhichOneof("identifier") != "mlflow_experiment":
                raise invalid_parameter("Only MLFLOW_EXPERIMENT trace locations are supported.")
            experiments.append(experiment_number(location.mlflow_experiment.experiment_id))
        if not experiments:
            raise invalid_parameter("At least one location must be specified.")
        found, token = self._search(experiments, request)
        response = pb.SearchTracesV3.Response(traces=[convert.info_v3(i) for i in found])
        if token:
            response.next_page_token = token
        return response

    def SearchTraces(self, request: pb.SearchTraces, context: Any) -> pb.SearchTraces.Response:
        experiments = [experiment_number(e) for e in request.experiment_ids]
        if not experiments:
            raise invalid_parameter("At least one experiment id must be specified.")
        found, token = self._search(experiments, request)
        response = pb.SearchTraces.Response(traces=[convert.info_v2(i) for i in found])
        if token:
            response.next_page_token = token
        return response

    def GetTraceArtifact(
        self, request: pb.GetTraceArtifact, context: Any
    ) -> Iterator[pb.GetTraceArtifact.Response]:
        self._one(request.request_id)
        with self.db.reader() as conn:
            spans = reads.load_spans(conn, [request.request_id])[request.request_id]
        headers = {
            "Content-Type": "application/json",
            "Content-Disposition": 'attachment; filename="traces.json"',
        }
        first = True
        for chunk in trace_json_chunks(spans):
            yield pb.GetTraceArtifact.Response(data=chunk, headers=headers if first else {})
            first = False

    def QueryTraceMetrics(self, request: pb.QueryTraceMetrics, context: Any) -> pb.QueryTraceMetrics.Response:
        return analytics.query_trace_metrics(self.db, request)

    def CalculateTraceFilterCorrelation(
        self, request: pb.CalculateTraceFilterCorrelation, context: Any
    ) -> pb.CalculateTraceFilterCorrelation.Response:
        return analytics.filter_correlation(self.db, request)

    # ------------------------------------------------------------------ assessments

    def CreateAssessment(self, request: pb.CreateAssessment, context: Any) -> pb.CreateAssessment.Response:
        with self.db.transaction() as conn:
            created = assessments.create(conn, request.assessment, now_ms())
        return pb.CreateAssessment.Response(assessment=created)

    def GetAssessment(self, request: pb.GetAssessment, context: Any) -> pb.GetAssessment.Response:
        with self.db.reader() as conn:
            return pb.GetAssessment.Response(
                assessment=assessments.get(conn, request.trace_id, request.assessment_id)
            )

    def UpdateAssessment(self, request: pb.UpdateAssessment, context: Any) -> pb.UpdateAssessment.Response:
        trace_id = request.trace_id or request.assessment.trace_id
        assessment_id = request.assessment_id or request.assessment.assessment_id
        with self.db.transaction() as conn:
            updated = assessments.update_one(
                conn, trace_id, assessment_id, request.assessment, mask=request.update_mask, now_ms=now_ms()
            )
        return pb.UpdateAssessment.Response(assessment=updated)

    def DeleteAssessment(self, request: pb.DeleteAssessment, context: Any) -> pb.DeleteAssessment.Response:
        with self.db.transaction() as conn:
            assessments.delete_one(conn, request.trace_id, request.assessment_id)
        return pb.DeleteAssessment.Response()
