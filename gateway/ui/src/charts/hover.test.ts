import { describe, expect, it } from 'vitest';
import { nearestPresent, presentIndices } from './hover';

describe('hover lookup', () => {
  it('lists where each column has values', () => {
    expect(presentIndices([[1, null, 3], [null, null, 5]]).map((a) => Array.from(a))).toEqual([[0, 2], [2]]);
  });
  it('finds the nearest index with a value, the earlier one on a tie, as uPlot does', () => {
    const present = Int32Array.from([2, 5, 9]);
    expect(nearestPresent(present, 5)).toBe(5);
    expect(nearestPresent(present, 0)).toBe(2);
    expect(nearestPresent(present, 3)).toBe(2);
    expect(nearestPresent(present, 4)).toBe(5);
    expect(nearestPresent(present, 7)).toBe(5);
    expect(nearestPresent(present, 8)).toBe(9);
    expect(nearestPresent(present, 20)).toBe(9);
    expect(nearestPresent(new Int32Array(0), 3)).toBeNull();
  });
  it('agrees with a linear scan', () => {
    const present = Int32Array.from([1, 4, 6, 7, 15, 40]);
    for (let t = 0; t < 45; t += 1) {
      let best = present[0] as number;
      for (const p of present) if (Math.abs(p - t) < Math.abs(best - t)) best = p;
      expect(nearestPresent(present, t)).toBe(best);
    }
  });
});
