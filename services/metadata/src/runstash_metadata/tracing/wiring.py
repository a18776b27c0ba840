"""How a server process gets the trace service: one servicer beside the metadata servicer, on its
database (hooks for server.py and the all-in-one wiring). Registering it also serves OTLP/gRPC
(``opentelemetry.proto.collector.trace.v1.TraceService/Export``) on the same port, through the
guarded ExportSpans, so an OpenTelemetry SDK or Collector can export to runstash directly."""

from __future__ import annotations

from typing import Any

import grpc
from runstash_protos import traces_pb2, traces_pb2_grpc
from runstash_protos import traces_pb2 as pb

from runstash_metadata.servicer import MetadataServicer
from runstash_metadata.tracing.retention import start_retention
from runstash_metadata.tracing.servicer import TraceServicer

TRACE_SERVICE: str = traces_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
OTLP_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
EXPERIMENT_HEADER = "x-mlflow-experiment-id"
RUN_HEADER = "x-mlflow-run-id"


def build_trace_servicer(metadata: MetadataServicer) -> TraceServicer:
    servicer = TraceServicer(metadata.db)
    servicer.retention = start_retention(servicer.db)
    return servicer


def otlp_handler(servicer: Any) -> grpc.GenericRpcHandler:
    """OTLP/gRPC Export: the raw ExportTraceServiceRequest bytes go to ExportSpans unparsed."""

    def export(payload: bytes, context: grpc.ServicerContext) -> bytes:
        headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        request = pb.ExportSpans(
            experiment_id=headers.get(EXPERIMENT_HEADER, ""),
            run_id=headers.get(RUN_HEADER, ""),
            payload=payload,
        )
        servicer.ExportSpans(request, context)
        return b""  # an empty ExportTraceServiceResponse: the whole batch was accepted

    method: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(export)
    return grpc.method_handlers_generic_handler(OTLP_SERVICE, {"Export": method})


def add_trace_service(servicer: Any, server: grpc.Server) -> None:
    traces_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    server.add_generic_rpc_handlers((otlp_handler(servicer),))
