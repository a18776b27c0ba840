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

/** One shared x column (the union of every run's x values) and one y column per run. */
export function alignSeries(series: readonly RunSeries[], options: ChartOptions): Aligned {
  const perRun = series.map(({ points }) => {
    const sorted = [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    const origin = sorted.reduce((min, p) => Math.min(min, p.timestamp), Infinity);
    const byX = new Map<number, number>();
    for (const point of sorted) byX.set(xOf(point, options.xAxis, origin), toNumber(point.value));
    return byX;
  });
  const xs = new Set<number>();
  for (const byX of perRun) for (const x of byX.keys()) xs.add(x);
  const x = Float64Array.from(xs).sort();
  const columns = perRun.map((byX) => {
    const ys: (number | null)[] = new Array<number | null>(x.length);
    for (let i = 0; i < x.length; i += 1) {
      const y = byX.get(x[i] as number);
      ys[i] = y === undefined || !Number.isFinite(y) || (options.logScale && y <= 0) ? null : y;
    }
    return smoothPresent(ys, options.smoothing);
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
