import { describe, expect, it } from 'vitest';
import { pointsForWidth } from './useHistories';

describe('pointsForWidth', () => {
  it('asks for about one point per pixel, in steps of 100, within the server cap', () => {
    expect(pointsForWidth(458)).toBe(500);
    expect(pointsForWidth(500)).toBe(500);
    expect(pointsForWidth(501)).toBe(600);
    expect(pointsForWidth(10)).toBe(100);
    expect(pointsForWidth(-5)).toBe(100);
    expect(pointsForWidth(9000)).toBe(2500);
  });
});
