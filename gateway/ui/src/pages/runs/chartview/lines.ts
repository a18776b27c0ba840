// What a metric card draws: per-run lines, per-group aggregate lines with a band, or bars
// when every run has a single value.
import { aggregate, carryForward } from '../../../charts/aggregate';
import type { Bar } from '../../../charts/BarChart';
import type { SeriesStyle } from '../../../charts/MetricChart';
import { alignSeries, type Aligned, type ChartOptions, type RunSeries } from '../../../charts/series';
import { plural } from '../../../util/plural';
import type { BandKind } from './layout';

export interface ChartRun {
  runId: string;
  label: string;
  color: string;
}

export interface ChartGroup {
  label: string;
  color: string;
  runIds: readonly string[];
}

export interface LinePlot {
  data: Aligned;
  styles: SeriesStyle[];
  bands: { series: [number, number]; fill: string }[];
}

/** True when no run has more than one point: the metric is drawn as bars. */
export function isSingleValue(series: readonly RunSeries[]): boolean {
  return series.every((s) => s.values.length <= 1) && series.some((s) => s.values.length === 1);
}

/** `#1f77b4` -> `rgba(31,119,180,a)`. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

export function runLines(series: readonly RunSeries[], runs: readonly ChartRun[], options: ChartOptions): LinePlot {
  return {
    data: alignSeries(series, options),
    styles: runs.map((r) => ({ label: r.label, color: r.color })),
    bands: [],
  };
}

const CENTER: Record<BandKind, 'mean' | 'median'> = { std: 'mean', minmax: 'mean', median: 'median' };

/**
 * One line per group (mean or median) between an upper and a lower edge (mean ± std, or
 * min and max); the label carries the group's run count.
 */
export function groupLines(
  series: readonly RunSeries[],
  groups: readonly ChartGroup[],
  options: ChartOptions,
  band: BandKind,
): LinePlot {
  const aligned = alignSeries(series, options);
  const [x, ...columns] = aligned;
  const columnOf = new Map(series.map((s, i) => [s.runId, columns[i] ?? []]));
  const data: Aligned = [x];
  const styles: SeriesStyle[] = [];
  const bands: LinePlot['bands'] = [];
  for (const group of groups) {
    const members = group.runIds.map((id) => carryForward(columnOf.get(id) ?? []));
    const stats = aggregate(members, x.length);
    const center = stats[CENTER[band]];
    const upper = band === 'std' ? center.map((m, i) => (m === null ? null : m + (stats.std[i] ?? 0))) : stats.max;
    const lower = band === 'std' ? center.map((m, i) => (m === null ? null : m - (stats.std[i] ?? 0))) : stats.min;
    const name = `${group.label} (${plural(group.runIds.length, 'run')})`;
    const first = data.length;
    data.push(center, upper, lower);
    styles.push(
      { label: `${name} ${CENTER[band]}`, color: group.color, width: 2 },
      { label: `${name} ${band === 'std' ? '+std' : 'max'}`, color: withAlpha(group.color, 0.35), width: 0.5 },
      { label: `${name} ${band === 'std' ? '-std' : 'min'}`, color: withAlpha(group.color, 0.35), width: 0.5 },
    );
    bands.push({ series: [first + 1, first + 2], fill: withAlpha(group.color, 0.18) });
  }
  return { data, styles, bands };
}

function lastValue(s: RunSeries | undefined): number | undefined {
  return s && s.values.length > 0 ? s.values[s.values.length - 1] : undefined;
}

export function runBars(series: readonly RunSeries[], runs: readonly ChartRun[]): Bar[] {
  const byId = new Map(series.map((s) => [s.runId, s]));
  return runs.flatMap((run) => {
    const value = lastValue(byId.get(run.runId));
    return value === undefined || !Number.isFinite(value) ? [] : [{ label: run.label, value, color: run.color }];
  });
}

/** One bar per group at its mean, with a ±std whisker. */
export function groupBars(series: readonly RunSeries[], groups: readonly ChartGroup[]): Bar[] {
  const byId = new Map(series.map((s) => [s.runId, s]));
  return groups.flatMap((group) => {
    const values = group.runIds.map((id) => lastValue(byId.get(id))).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (values.length === 0) return [];
    const stats = aggregate(values.map((v) => [v]), 1);
    const mean = stats.mean[0] ?? 0;
    return [{
      label: `${group.label} (${plural(values.length, 'run')})`,
      value: mean,
      spread: stats.std[0] ?? 0,
      color: group.color,
      detail: `std ${stats.std[0] ?? 0}, min ${stats.min[0] ?? ''}, max ${stats.max[0] ?? ''}`,
    }];
  });
}
