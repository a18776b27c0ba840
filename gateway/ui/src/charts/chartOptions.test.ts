import { describe, expect, it } from 'vitest';
import { chartOptionsOf, chartQueryOf } from './chartOptions';

describe('chart options in the URL', () => {
  it('defaults to step, linear, unsmoothed', () => {
    expect(chartOptionsOf(new URLSearchParams())).toEqual({ xAxis: 'step', logScale: false, smoothing: 0 });
  });

  it('round-trips and clamps', () => {
    const options = { xAxis: 'relative' as const, logScale: true, smoothing: 0.6 };
    const query = new URLSearchParams(chartQueryOf(options) as Record<string, string>);
    expect(chartOptionsOf(query)).toEqual(options);
    expect(chartOptionsOf(new URLSearchParams('x=bogus&smooth=7')).xAxis).toBe('step');
    expect(chartOptionsOf(new URLSearchParams('smooth=7')).smoothing).toBe(0.99);
    expect(chartOptionsOf(new URLSearchParams('smooth=abc')).smoothing).toBe(0);
  });
});
