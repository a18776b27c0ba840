import { describe, expect, it } from 'vitest';
import type { Metric } from '../api/types';
import { alignSeries, groupByRun, seriesOf, smooth } from './series';

const point = (step: number, value: number | string, timestamp = 1000 + step * 1000, run_id = 'a'): Metric => ({
  key: 'loss',
  step,
  value,
  timestamp,
  run_id,
});

describe('groupByRun', () => {
  it('splits a bulk answer by run id, in the requested order', () => {
    const grouped = groupByRun([point(0, 1, 0, 'b'), point(0, 2, 0, 'a'), point(1, 3, 0, 'b')], ['a', 'b', 'c']);
    expect(grouped.map((g) => [g.runId, g.steps.length])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 0],
    ]);
  });
});

describe('alignSeries', () => {
  const options = { xAxis: 'step' as const, logScale: false, smoothing: 0 };

  it('joins different step sets into one x column with gaps', () => {
    const data = alignSeries(
      [
        seriesOf('a', [point(0, 1), point(2, 3)]),
        seriesOf('b', [point(1, 5), point(2, 6)]),
      ],
      options,
    );
    expect(data).toEqual([
      [0, 1, 2],
      [1, null, 3],
      [null, 5, 6],
    ]);
  });

  it('uses seconds for time and time since the run started for relative', () => {
    const series = [seriesOf('a', [point(0, 1, 5000), point(1, 2, 7000)])];
    expect(alignSeries(series, { ...options, xAxis: 'time' })[0]).toEqual([5, 7]);
    expect(alignSeries(series, { ...options, xAxis: 'relative' })[0]).toEqual([0, 2]);
  });

  it('drops NaN, and non-positive values on a log scale', () => {
    const series = [seriesOf('a', [point(0, 'NaN'), point(1, 0), point(2, 4)])];
    expect(alignSeries(series, options)[1]).toEqual([null, 0, 4]);
    expect(alignSeries(series, { ...options, logScale: true })[1]).toEqual([null, null, 4]);
  });

  it('leaves out points without a usable x', () => {
    const data = alignSeries([seriesOf('a', [point(0, 1), { ...point(1, 2), step: Number.NaN }, point(2, 3)])], options);
    expect(data).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });
  it('keeps the later point when time goes backwards onto the same x', () => {
    const series = [seriesOf('a', [point(0, 1, 5000), point(1, 2, 3000), point(2, 3, 5000)])];
    expect(alignSeries(series, { ...options, xAxis: 'time' })).toEqual([
      [3, 5],
      [2, 3],
    ]);
  });
  it('sorts unordered input by x', () => {
    const data = alignSeries([seriesOf('a', [point(3, 30), point(1, 10)])], options);
    expect(data).toEqual([
      [1, 3],
      [10, 30],
    ]);
  });

  it('smooths each run over its own points only', () => {
    const data = alignSeries(
      [
        seriesOf('a', [point(0, 0), point(2, 10)]),
        seriesOf('b', [point(1, 5)]),
      ],
      { ...options, smoothing: 0.5 },
    );
    expect(data[1]?.[1]).toBeNull();
    expect(data[1]?.[0]).toBe(0);
    expect(data[1]?.[2]).toBeCloseTo(10 * (0.5 / 0.75));
  });
});

describe('smooth', () => {
  it('is the identity at weight 0 and bias-corrected otherwise', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const out = smooth([10, 10, 10], 0.9);
    for (const v of out) expect(v).toBeCloseTo(10);
  });

  it('passes gaps through', () => {
    expect(smooth([1, null, 1], 0.5)).toEqual([1, null, 1]);
  });
});
