// The experiment's trace overview from MLflow's QueryTraceMetrics route (traces/metrics): traces
// per UTC day and the p95 latency over the window, each one aggregate query on the server.
import { send } from '../../api/client';

const METRICS = 'ajax-api/3.0/mlflow/traces/metrics';
export const DAY_MS = 86_400_000;

interface DataPoint {
  dimensions?: Record<string, string>;
  values?: Record<string, number>;
}

async function query(body: Record<string, unknown>, signal?: AbortSignal): Promise<DataPoint[]> {
  const init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const answer = await send<{ data_points?: DataPoint[] }>(METRICS, init, signal);
  return answer.data_points ?? [];
}

export interface TraceOverview {
  /** Day start (ms, UTC) -> traces that day, for every day of the window (0 when none). */
  days: { start: number; count: number }[];
  total: number;
  p95Ms?: number;
}

export async function traceOverview(experimentIds: readonly string[], days: number, now: number, signal?: AbortSignal): Promise<TraceOverview> {
  const end = now;
  const start = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const common = { experiment_ids: experimentIds, view_type: 'TRACES', start_time_ms: start, end_time_ms: end };
  const [perDay, latency] = await Promise.all([
    query({ ...common, metric_name: 'trace_count', aggregations: [{ aggregation_type: 'COUNT' }], time_interval_seconds: DAY_MS / 1000 }, signal),
    query({ ...common, metric_name: 'latency', aggregations: [{ aggregation_type: 'PERCENTILE', percentile_value: 95 }] }, signal),
  ]);
  const counts = new Map(perDay.map((p) => [Date.parse(p.dimensions?.time_bucket ?? ''), p.values?.COUNT ?? 0]));
  const series = Array.from({ length: days }, (_, i) => ({ start: start + i * DAY_MS, count: counts.get(start + i * DAY_MS) ?? 0 }));
  return { days: series, total: series.reduce((sum, d) => sum + d.count, 0), p95Ms: latency[0]?.values?.['P95.0'] };
}
