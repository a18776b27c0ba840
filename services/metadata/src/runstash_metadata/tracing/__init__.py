"""Traces of GenAI applications: MLflow 3's trace store (TraceInfo, spans, tags, metadata,
assessments), OTLP span ingest and the trace search grammar, over the tracking database."""
