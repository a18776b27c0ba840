import { describe, expect, it } from 'vitest';
import { fromColumns } from './chartData';

describe('fromColumns', () => {
  it('keeps the answer as typed columns per key and run, with NaN and infinities as numbers', () => {
    const byKey = fromColumns([
      { metric_key: 'loss', run_id: 'a', steps: [0, 5], values: [1.5, 'NaN'], timestamps: [10, 20] },
      { metric_key: 'loss', run_id: 'b', steps: [1], values: ['-Infinity'], timestamps: [30] },
      { metric_key: 'acc', run_id: 'a', steps: [2], values: ['Infinity'], timestamps: [40] },
    ]);
    const a = byKey.get('loss')?.get('a');
    expect(a?.steps).toBeInstanceOf(Float64Array);
    expect(Array.from(a?.steps ?? [])).toEqual([0, 5]);
    expect(Array.from(a?.values ?? [])).toEqual([1.5, Number.NaN]);
    expect(Array.from(a?.timestamps ?? [])).toEqual([10, 20]);
    expect(Array.from(byKey.get('loss')?.get('b')?.values ?? [])).toEqual([-Infinity]);
    expect(Array.from(byKey.get('acc')?.get('a')?.values ?? [])).toEqual([Infinity]);
  });
});
