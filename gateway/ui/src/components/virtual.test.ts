import { describe, expect, it } from 'vitest';
import { visibleRange } from './virtual';

describe('visibleRange', () => {
  it('renders only the rows in view plus overscan', () => {
    expect(visibleRange(0, 300, 30, 10_000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(30_000, 300, 30, 10_000, 5)).toEqual({ start: 995, end: 1015 });
  });

  it('clamps at the end of the list and handles empty lists', () => {
    expect(visibleRange(299_700, 600, 30, 10_000, 5)).toEqual({ start: 9985, end: 10_000 });
    expect(visibleRange(0, 300, 30, 0, 5)).toEqual({ start: 0, end: 0 });
  });
});
