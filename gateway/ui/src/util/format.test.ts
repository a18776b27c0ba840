import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatNumber, runDuration } from './format';

describe('formatting', () => {
  it('renders wire doubles, including NaN and infinities sent as strings', () => {
    expect(formatNumber('NaN')).toBe('NaN');
    expect(formatNumber('Infinity')).toBe('∞');
    expect(formatNumber('-Infinity')).toBe('-∞');
    expect(formatNumber(3)).toBe('3');
    expect(formatNumber(0.123456789)).toBe('0.123457');
    expect(formatNumber(1.5e-7)).toBe('1.5000e-7');
  });

  it('renders durations from milliseconds', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(12_345)).toBe('12.3s');
    expect(formatDuration(125_000)).toBe('2m 5s');
    expect(formatDuration(3_726_000)).toBe('1h 2m');
    expect(formatDuration(undefined)).toBe('');
  });

  it('measures running runs up to now', () => {
    expect(runDuration(1000, undefined, 5000)).toBe(4000);
    expect(runDuration(1000, 3000, 5000)).toBe(2000);
    expect(runDuration(undefined, 3000, 5000)).toBeUndefined();
  });

  it('renders sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatBytes(undefined)).toBe('');
  });
});
