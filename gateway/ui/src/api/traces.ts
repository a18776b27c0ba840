// MLflow 3 trace routes (ajax-api/3.0), in the JSON shapes of MLflow 3.17's SearchTracesV3,
// GetTraceInfoV3 and GetTrace.
import { queryString, send } from './client';

const API3 = 'ajax-api/3.0/mlflow/';

export type TraceState = 'STATE_UNSPECIFIED' | 'OK' | 'ERROR' | 'IN_PROGRESS';

export interface AssessmentSource {
  source_type?: 'SOURCE_TYPE_UNSPECIFIED' | 'HUMAN' | 'LLM_JUDGE' | 'CODE';
  source_id?: string;
}

export interface AssessmentError {
  error_code?: string;
  error_message?: string;
  stack_trace?: string;
}

export interface Assessment {
  assessment_id?: string;
  assessment_name: string;
  trace_id?: string;
  span_id?: string;
  source?: AssessmentSource;
  create_time?: string;
  last_update_time?: string;
  feedback?: { value?: unknown; error?: AssessmentError };
  expectation?: { value?: unknown; serialized_value?: { serialization_format?: string; value?: string } };
  rationale?: string;
  metadata?: Record<string, string>;
  overrides?: string;
  valid?: boolean;
}

export interface TraceInfo {
  trace_id: string;
  client_request_id?: string;
  trace_location?: { type?: string; mlflow_experiment?: { experiment_id?: string } };
  request_preview?: string;
  response_preview?: string;
  /** RFC 3339 timestamp. */
  request_time?: string;
  /** Protobuf Duration, e.g. "0.005s". */
  execution_duration?: string;
  state?: TraceState;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
  assessments?: Assessment[];
}

export interface TraceSearch {
  experimentIds: readonly string[];
  filter: string;
  orderBy: readonly string[];
  pageSize: number;
  pageToken?: string;
}

function post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return send<T>(
    `${API3}${path}`,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    signal,
  );
}

export async function searchTraces(
  search: TraceSearch,
  signal?: AbortSignal,
): Promise<{ traces: TraceInfo[]; nextPageToken?: string }> {
  const body = await post<{ traces?: TraceInfo[]; next_page_token?: string }>(
    'traces/search',
    {
      locations: search.experimentIds.map((id) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: id } })),
      filter: search.filter || undefined,
      max_results: search.pageSize,
      order_by: search.orderBy.length ? search.orderBy : undefined,
      page_token: search.pageToken,
    },
    signal,
  );
  return { traces: body.traces ?? [], nextPageToken: body.next_page_token || undefined };
}

export async function getTraceInfo(traceId: string, signal?: AbortSignal): Promise<TraceInfo> {
  const body = await send<{ trace: { trace_info: TraceInfo } }>(`${API3}traces/${encodeURIComponent(traceId)}`, { method: 'GET' }, signal);
  return body.trace.trace_info;
}

/**
 * The URL of the trace's spans as MLflow's `traces.json` (`{"spans": [...]}`), the route MLflow's
 * own trace view reads. It is read as a stream (see spanLoad), so spans come in as pages while
 * the body arrives; runstash renders it span by span.
 */
export function traceSpansUrl(traceId: string): string {
  return `${API3}get-trace-artifact${queryString({ request_id: traceId })}`;
}

// ---- derived values -------------------------------------------------------------------------

/** Milliseconds of a protobuf Duration string ("1.5s", "0.005s"). */
export function durationMs(duration: string | undefined): number | undefined {
  if (!duration) return undefined;
  const match = /^(-?\d+(?:\.\d+)?)s$/.exec(duration);
  return match ? Number(match[1]) * 1000 : undefined;
}

export function requestTimeMs(info: TraceInfo): number | undefined {
  if (!info.request_time) return undefined;
  const ms = Date.parse(info.request_time);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface TokenUsage {
  input?: number;
  output?: number;
  total?: number;
}

/** Token usage the server derived into `mlflow.trace.tokenUsage` (JSON). */
export function tokenUsage(info: TraceInfo): TokenUsage | undefined {
  const text = info.trace_metadata?.['mlflow.trace.tokenUsage'];
  if (!text) return undefined;
  try {
    const usage = JSON.parse(text) as Record<string, unknown>;
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    return { input: num(usage.input_tokens), output: num(usage.output_tokens), total: num(usage.total_tokens) };
  } catch {
    return undefined;
  }
}

export function traceName(info: TraceInfo): string {
  return info.tags?.['mlflow.traceName'] ?? '';
}

export function sessionId(info: TraceInfo): string | undefined {
  return info.trace_metadata?.['mlflow.trace.session'] || undefined;
}

export function sourceRunId(info: TraceInfo): string | undefined {
  return info.trace_metadata?.['mlflow.sourceRun'] || undefined;
}

export function experimentIdOf(info: TraceInfo): string | undefined {
  return info.trace_location?.mlflow_experiment?.experiment_id;
}

/** User-visible tags: MLflow's own `mlflow.*` bookkeeping tags are left out. */
export function userTags(info: TraceInfo): [string, string][] {
  return Object.entries(info.tags ?? {}).filter(([key]) => !key.startsWith('mlflow.'));
}

/** An assessment's value as one short line. */
export function assessmentValue(assessment: Assessment): string {
  if (assessment.feedback) {
    if (assessment.feedback.error && assessment.feedback.value === undefined) {
      return `error: ${assessment.feedback.error.error_message ?? assessment.feedback.error.error_code ?? ''}`;
    }
    return valueText(assessment.feedback.value);
  }
  if (assessment.expectation) {
    const serialized = assessment.expectation.serialized_value;
    return serialized ? (serialized.value ?? '') : valueText(assessment.expectation.value);
  }
  return '';
}

function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Assessments still in force: the ones an override replaced (valid = false) are left out. */
export function validAssessments(info: TraceInfo): Assessment[] {
  return (info.assessments ?? []).filter((a) => a.valid !== false);
}
