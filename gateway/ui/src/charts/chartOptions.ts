import type { ChartOptions, XAxis } from './series';

const AXES: readonly XAxis[] = ['step', 'time', 'relative'];

export function chartOptionsOf(query: URLSearchParams): ChartOptions {
  const x = query.get('x');
  const smoothing = Number(query.get('smooth') ?? '0');
  return {
    xAxis: AXES.includes(x as XAxis) ? (x as XAxis) : 'step',
    logScale: query.get('log') === '1',
    smoothing: Number.isFinite(smoothing) ? Math.min(Math.max(smoothing, 0), 0.99) : 0,
  };
}

export function chartQueryOf(options: ChartOptions): Record<string, string | undefined> {
  return {
    x: options.xAxis === 'step' ? undefined : options.xAxis,
    log: options.logScale ? '1' : undefined,
    smooth: options.smoothing > 0 ? String(options.smoothing) : undefined,
  };
}
