// Turns metric histories into the column-aligned arrays uPlot draws.
import type { Metric } from '../api/types';
import { toNumber } from '../util/format';

export type XAxis = 'step' | 'time' | 'relative';

export interface ChartOptions {
  xAxis: XAxis;
  logScale: boolean;
  /** 0 = raw values, up to 0.99 = heavy exponential smoothing. */
  smoothing: number;
}

/**
 * One run's history as columns, in the server's (step, timestamp) order: no object per point,
 * so a chart of 100 runs x ~1000 points costs a few typed arrays, not 100,000 objects.
 */
export interface RunSeries {
  runId: string;
  steps: Float64Array;
  /** NaN and ±Infinity as numbers. */
  values: Float64Array;
  timestamps: Float64Array;
}

export type Aligned = [number[], ...(number | null)[][]];

/** A series from point objects (a bulk-interval answer, tests). */
export function seriesOf(runId: string, points: readonly Metric[]): RunSeries {
  const n = points.length;
  const series = { runId, steps: new Float64Array(n), values: new Float64Array(n), timestamps: new Float64Array(n) };
  points.forEach((p, i) => {
    series.steps[i] = p.step;
    series.values[i] = toNumber(p.value);
    series.timestamps[i] = p.timestamp;
  });
  return series;
}

/** Groups a bulk-interval response (runs concatenated, each carrying run_id) by run. */
export function groupByRun(metrics: readonly Metric[], runIds: readonly string[]): RunSeries[] {
  const byRun = new Map<string, Metric[]>(runIds.map((id) => [id, []]));
  for (const metric of metrics) byRun.get(metric.run_id ?? '')?.push(metric);
  return runIds.map((runId) => seriesOf(runId, byRun.get(runId) ?? []));
}

/** Exponential moving average with bias correction, so early points are not pulled to 0. */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return [...values];
  let last = 0;
  let debias = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    debias = debias * weight + (1 - weight);
    return last / debias;
  });
}

interface RunColumns {
  /** Ascending, without repeats. */
  xs: Float64Array;
  /** NaN where a value cannot be drawn (NaN, infinite, or not positive on a log scale). */
  ys: Float64Array;
}

function xColumn({ steps, timestamps }: RunSeries, axis: XAxis): Float64Array {
  if (axis === 'step') return steps;
  let origin = Infinity;
  for (const t of timestamps) origin = Math.min(origin, t);
  const base = axis === 'time' ? 0 : origin;
  return timestamps.map((t) => (t - base) / 1000);
}

/**
 * The order to read a run's points in: by x, ties in (step, timestamp) then input order, so of
 * points sharing an x the last logged wins. Undefined (input order) in the usual case, where the
 * server's (step, timestamp) order already has x ascending.
 */
function readOrder({ steps, timestamps }: RunSeries, rawX: Float64Array): Uint32Array | undefined {
  const n = rawX.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i += 1) {
    const byStep = (steps[i - 1] as number) - (steps[i] as number) || (timestamps[i - 1] as number) - (timestamps[i] as number);
    sorted = byStep <= 0 && (rawX[i - 1] as number) <= (rawX[i] as number);
  }
  if (sorted) return undefined;
  const order = Uint32Array.from({ length: n }, (_, k) => k);
  const at = (a: Float64Array, i: number): number => a[i] as number;
  return order.sort((p, q) => at(rawX, p) - at(rawX, q) || at(steps, p) - at(steps, q) || at(timestamps, p) - at(timestamps, q) || p - q);
}

/** One run's points as ascending x and y columns; of points sharing an x the last logged wins. */
function runColumns(series: RunSeries, options: ChartOptions): RunColumns {
  const rawX = xColumn(series, options.xAxis);
  const order = readOrder(series, rawX);
  const n = rawX.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let m = 0;
  for (let k = 0; k < n; k += 1) {
    const i = order ? (order[k] as number) : k;
    const x = rawX[i] as number;
    if (!Number.isFinite(x)) continue;
    const v = series.values[i] as number;
    const y = !Number.isFinite(v) || (options.logScale && v <= 0) ? Number.NaN : v;
    if (m > 0 && xs[m - 1] === x) ys[m - 1] = y;
    else {
      xs[m] = x;
      ys[m] = y;
      m += 1;
    }
  }
  return { xs: xs.subarray(0, m), ys: ys.subarray(0, m) };
}

function sameColumn(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** The sorted union of every run's x values (runs sampled at the same x share one column). */
function unionX(runs: readonly RunColumns[]): Float64Array {
  const first = runs[0]?.xs ?? new Float64Array(0);
  if (runs.every((r) => sameColumn(r.xs, first))) return first;
  const all = new Float64Array(runs.reduce((n, r) => n + r.xs.length, 0));
  let at = 0;
  for (const r of runs) {
    all.set(r.xs, at);
    at += r.xs.length;
  }
  all.sort();
  let unique = 0;
  for (let i = 0; i < all.length; i += 1) if (i === 0 || all[i] !== all[unique - 1]) all[unique++] = all[i] as number;
  return all.slice(0, unique);
}

/** A run's y values placed on the shared x column, null where it has no drawable point. */
function placed({ xs, ys }: RunColumns, x: Float64Array): (number | null)[] {
  const out = new Array<number | null>(x.length).fill(null);
  let j = 0;
  for (let i = 0; i < xs.length; i += 1) {
    // Every x of a run is in the union, in the same order: j only moves forward.
    while (j < x.length && x[j] !== xs[i]) j += 1;
    const y = ys[i] as number;
    out[j] = Number.isNaN(y) ? null : y;
  }
  return out;
}

/**
 * One shared x column (the union of every run's x values) and one y column per run, null where
 * a run has no point; smoothing runs over each run's own points. Linear in the points (after a
 * sort of the union when runs were sampled at different x).
 */
export function alignSeries(series: readonly RunSeries[], options: ChartOptions): Aligned {
  const runs = series.map((s) => runColumns(s, options));
  const x = unionX(runs);
  const columns = runs.map((run) => smoothPresent(placed(run, x), options.smoothing));
  return [Array.from(x), ...columns];
}

/** Smooths only over a run's own points, leaving the gaps (other runs' x values) as null. */
function smoothPresent(ys: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return ys;
  const present: number[] = [];
  const values: number[] = [];
  ys.forEach((y, i) => {
    if (y !== null) {
      present.push(i);
      values.push(y);
    }
  });
  const smoothed = smooth(values, weight);
  const out = new Array<number | null>(ys.length).fill(null);
  present.forEach((index, k) => {
    out[index] = smoothed[k] ?? null;
  });
  return out;
}

const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf', '#393b79', '#ad494a', '#637939', '#8c6d31', '#843c39', '#7b4173',
  '#3182bd', '#e6550d', '#31a354', '#756bb1',
];

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#000';
}
