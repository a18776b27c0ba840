import { describe, expect, it } from 'vitest';
import { diffRows } from './diff';
import { axisOf, heatColor } from './parallel';

describe('diffRows', () => {
  it('marks rows whose values differ, including a key one run lacks', () => {
    const rows = diffRows([
      [
        { key: 'lr', value: '0.1' },
        { key: 'seed', value: '1' },
      ],
      [
        { key: 'lr', value: '0.01' },
        { key: 'seed', value: '1' },
        { key: 'extra', value: 'x' },
      ],
    ]);
    expect(rows).toEqual([
      { key: 'extra', values: [undefined, 'x'], differs: true },
      { key: 'lr', values: ['0.1', '0.01'], differs: true },
      { key: 'seed', values: ['1', '1'], differs: false },
    ]);
  });
});

describe('parallel-coordinates axes', () => {
  it('scales numeric values linearly between min and max', () => {
    const axis = axisOf('lr', ['0.1', '0.3', undefined, '0.2']);
    expect(axis.positions[0]).toBeCloseTo(0);
    expect(axis.positions[1]).toBeCloseTo(1);
    expect(axis.positions[2]).toBeUndefined();
    expect(axis.positions[3]).toBeCloseTo(0.5);
    expect(axis.ticks.map((t) => t.label)).toEqual(['0.1', '0.2', '0.3']);
  });

  it('spreads categories evenly in sorted order', () => {
    const axis = axisOf('model', ['tree', 'forest', 'linear']);
    expect(axis.positions).toEqual([1, 0, 0.5]);
  });

  it('centres a constant axis', () => {
    expect(axisOf('x', ['5', '5']).positions).toEqual([0.5, 0.5]);
  });

  it('colours from blue (low) to red (high)', () => {
    expect(heatColor(0)).toBe('hsl(240, 70%, 45%)');
    expect(heatColor(1)).toBe('hsl(0, 70%, 45%)');
    expect(heatColor(undefined)).toBe('#999');
  });
});
