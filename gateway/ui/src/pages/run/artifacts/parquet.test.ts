import { describe, expect, it } from 'vitest';
import { cellText } from './parquet';

describe('Parquet cells as text', () => {
  it('shows 64-bit integers exactly, dates in ISO form, bytes by size, nested values as JSON', () => {
    expect(cellText(9007199254740993n)).toBe('9007199254740993');
    expect(cellText(new Date(Date.UTC(2024, 0, 2)))).toBe('2024-01-02T00:00:00.000Z');
    expect(cellText(new Uint8Array(3))).toBe('<3 bytes>');
    expect(cellText({ a: [1n, 2] })).toBe('{"a":["1",2]}');
    expect(cellText(null)).toBe('');
    expect(cellText(0.25)).toBe('0.25');
  });
});
