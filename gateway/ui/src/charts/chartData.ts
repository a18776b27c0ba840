// Chart data for many charts at once: runstash's get-chart-histories call, batched across charts.
import { apiRequest, queryString } from '../api/client';
import type { RunSeries } from './series';

/** The server takes 100 runs and 50 metric keys per call. */
export const MAX_RUNS_PER_CALL = 100;
/**
 * Keys per call. Charts that ask together (the cards of one screen) share calls, so the server
 * answers a screen in a few round trips; a few keys each, so two calls run side by side on the
 * server and the first charts draw before the whole screen is read.
 */
const KEYS_PER_CALL = 3;
/** Calls in flight page-wide; the others wait in the order the charts asked (top to bottom). */
const MAX_IN_FLIGHT = 2;
/** How long a batch stays open for more charts: the cards of a screen measure within a frame. */
const GATHER_MS = 16;

/** One series of the answer, as columns; doubles may be "NaN" / "Infinity" strings. */
interface WireSeries {
  metric_key?: string;
  run_id?: string;
  steps?: number[];
  values?: (number | string)[];
  timestamps?: number[];
}

/** The series per run id of one metric key. */
export type KeyHistories = Map<string, RunSeries>;

interface Ask {
  key: string;
  resolve: (histories: KeyHistories) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
}

interface Batch {
  runIds: readonly string[];
  maxResults: number;
  asks: Ask[];
}

const open = new Map<string, Batch>();
let inFlight = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight += 1;
  try {
    return await work();
  } finally {
    inFlight -= 1;
    waiting.shift()?.();
  }
}

/** A wire column as doubles; the strings "NaN", "Infinity", "-Infinity" become those numbers. */
function doubles(column: readonly (number | string)[] | undefined, n: number): Float64Array {
  const out = new Float64Array(n);
  if (!column) return out;
  for (let i = 0; i < n; i += 1) {
    const v = column[i];
    out[i] = typeof v === 'number' ? v : Number(v);
  }
  return out;
}

/** Column answer -> typed columns per run, keyed by metric then run (no object per point). */
export function fromColumns(series: readonly WireSeries[]): Map<string, KeyHistories> {
  const byKey = new Map<string, KeyHistories>();
  for (const s of series) {
    const key = s.metric_key ?? '';
    const runId = s.run_id ?? '';
    const n = s.steps?.length ?? 0;
    let runs = byKey.get(key);
    if (!runs) byKey.set(key, (runs = new Map()));
    runs.set(runId, { runId, steps: doubles(s.steps, n), values: doubles(s.values, n), timestamps: doubles(s.timestamps, n) });
  }
  return byKey;
}

async function call(runIds: readonly string[], keys: readonly string[], maxResults: number, signal: AbortSignal): Promise<Map<string, KeyHistories>> {
  const query = queryString({ run_ids: runIds, metric_keys: keys, max_results: maxResults });
  const body = await apiRequest<{ series?: WireSeries[] }>('GET', `ajax-api/2.0/runstash/metrics/get-chart-histories${query}`, undefined, signal);
  return fromColumns(body.series ?? []);
}

/** Sends one batch: its keys in calls of KEYS_PER_CALL, each answering its own charts. */
function flush(id: string): void {
  const batch = open.get(id);
  open.delete(id);
  if (!batch) return;
  const live = batch.asks.filter((a) => !a.signal.aborted);
  const keys = [...new Set(live.map((a) => a.key))];
  for (let i = 0; i < keys.length; i += KEYS_PER_CALL) {
    const part = keys.slice(i, i + KEYS_PER_CALL);
    const asks = live.filter((a) => part.includes(a.key));
    // Aborted only when every chart waiting on it has gone.
    const controller = new AbortController();
    let left = asks.length;
    const gone = (): void => {
      left -= 1;
      if (left === 0) controller.abort();
    };
    for (const a of asks) a.signal.addEventListener('abort', gone, { once: true });
    limited(() => (controller.signal.aborted ? Promise.reject(new DOMException('aborted', 'AbortError')) : call(batch.runIds, part, batch.maxResults, controller.signal))).then(
      (byKey) => asks.forEach((a) => a.resolve(byKey.get(a.key) ?? new Map())),
      (error: unknown) => asks.forEach((a) => a.reject(error)),
    );
  }
}

/**
 * Points per run of `key` for up to MAX_RUNS_PER_CALL runs, about `maxResults` each, sampled
 * by the server. Calls made within GATHER_MS for the same runs and size share requests.
 */
export function loadKey(runIds: readonly string[], key: string, maxResults: number, signal: AbortSignal): Promise<KeyHistories> {
  return new Promise((resolve, reject) => {
    const id = JSON.stringify([runIds, maxResults]);
    let batch = open.get(id);
    if (!batch) {
      batch = { runIds, maxResults, asks: [] };
      open.set(id, batch);
      setTimeout(() => flush(id), GATHER_MS);
    }
    batch.asks.push({ key, resolve, reject, signal });
  });
}
