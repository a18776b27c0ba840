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

export interface RunSeries {
  runId: string;
  points: Metric[];
}

export type Aligned = [number[], ...(number | null)[][]];

function xOf(point: Metric, axis: XAxis, origin: number): number {
  if (axis === 'step') return point.step;
  if (axis === 'time') return point.timestamp / 1000;
  return (point.timestamp - origin) / 1000;
}

/** Groups a bulk-interval response (runs concatenated, each carrying run_id) by run. */
export function groupByRun(metrics: readonly Metric[], runIds: readonly string[]): RunSeries[] {
  const byRun = new Map<string, Metric[]>(runIds.map((id) => [id, []]));
  for (const metric of metrics) byRun.get(metric.run_id ?? '')?.push(metric);
  return runIds.map((runId) => ({ runId, points: byRun.get(runId) ?? [] }));
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

/** One run's points as ascending x and y columns; of points sharing an x the last logged wins. */
function runColumns(points: readonly Metric[], options: ChartOptions): RunColumns {
  const n = points.length;
  let origin = Infinity;
  for (const p of points) origin = Math.min(origin, p.timestamp);
  // The server answers in (step, timestamp) order; sorting is only needed for other input.
  let order = points;
  for (let i = 1; i < n; i += 1) {
    const a = points[i - 1] as Metric;
    const b = points[i] as Metric;
    if (a.step > b.step || (a.step === b.step && a.timestamp > b.timestamp)) {
      order = [...points].sort((p, q) => p.step - q.step || p.timestamp - q.timestamp);
      break;
    }
  }
  const rawX = new Float64Array(n);
  for (let i = 0; i < n; i += 1) rawX[i] = xOf(order[i] as Metric, options.xAxis, origin);
  let index: Uint32Array | undefined;
  for (let i = 1; i < n; i += 1) {
    if ((rawX[i - 1] as number) > (rawX[i] as number)) {
      // Time can go backwards across steps; a stable sort keeps the later point of a tie last.
      index = Uint32Array.from(Array.from({ length: n }, (_, k) => k).sort((p, q) => (rawX[p] as number) - (rawX[q] as number) || p - q));
      break;
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < n; k += 1) {
    const i = index ? (index[k] as number) : k;
    const x = rawX[i] as number;
    if (!Number.isFinite(x)) continue;
    const v = toNumber((order[i] as Metric).value);
    const y = !Number.isFinite(v) || (options.logScale && v <= 0) ? Number.NaN : v;
    if (xs.length > 0 && xs[xs.length - 1] === x) ys[ys.length - 1] = y;
    else {
      xs.push(x);
      ys.push(y);
    }
  }
  return { xs: Float64Array.from(xs), ys: Float64Array.from(ys) };
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

/**
 * One shared x column (the union of every run's x values) and one y column per run, null where
 * a run has no point; smoothing runs over each run's own points. Linear in the points (after a
 * sort of the union when runs were sampled at different x).
 */
export function alignSeries(series: readonly RunSeries[], options: ChartOptions): Aligned {
  const runs = series.map(({ points }) => runColumns(points, options));
  const x = unionX(runs);
  const columns = runs.map(({ xs, ys }) => {
    const out = new Array<number | null>(x.length).fill(null);
    let j = 0;
    for (let i = 0; i < xs.length; i += 1) {
      // Every x of a run is in the union, in the same order: j only moves forward.
      while (j < x.length && x[j] !== xs[i]) j += 1;
      const y = ys[i] as number;
      out[j] = Number.isNaN(y) ? null : y;
    }
    return smoothPresent(out, options.smoothing);
  });
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
