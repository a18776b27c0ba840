"""The ingest stream: a job's batches of metrics, params and tags over one bidirectional call.

Each batch goes through the metadata servicer's own ``LogBatch`` (validation, limits, the store's
bulk path, one transaction), so the stream adds no write path of its own; it only saves the job a
round trip per batch. Every batch is answered with an acknowledgement, in order. A rejected batch
is acknowledged with its error and changes nothing; the stream goes on with the next one, so one
bad batch does not cost the job its connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from runstash_protos import ingest_pb2, ingest_pb2_grpc
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError

from runstash_metadata.servicer import MetadataServicer

log = logging.getLogger("runstash.metadata.ingest")

SERVICE_NAME: str = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, metadata: MetadataServicer) -> None:
        self._metadata = metadata

    def Ingest(
        self, request_iterator: Iterator[ingest_pb2.IngestBatch], context: Any
    ) -> Iterator[ingest_pb2.IngestAck]:
        for batch in request_iterator:
            yield self._store(batch, context)

    def _store(self, batch: ingest_pb2.IngestBatch, context: Any) -> ingest_pb2.IngestAck:
        ack = ingest_pb2.IngestAck(sequence=batch.sequence, idempotency_key=batch.idempotency_key)
        request = pb.LogBatch(
            run_id=batch.run_id, metrics=batch.metrics, params=batch.params, tags=batch.tags
        )
        try:
            self._metadata.LogBatch(request, context)
        except RunstashError as error:
            log.info("ingest batch %s rejected: %s", batch.idempotency_key, error.message)
            ack.stored = False
            ack.error_code = error.code.value
            ack.message = error.message
            return ack
        ack.stored = True
        return ack


def add_to_server(servicer: IngestServicer) -> tuple[str, Any]:
    """The registration :func:`runstash_protos.rpc.service_server` takes for this service."""
    return SERVICE_NAME, lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(servicer, server)
