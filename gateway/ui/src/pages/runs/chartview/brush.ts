// Brushing on parallel-coordinate axes: a run passes when it lies inside every brushed range.
import type { Axis } from '../../compare/parallel';

/** A brushed range on one axis, in axis positions (0 = bottom, 1 = top). */
export interface Brush {
  low: number;
  high: number;
}

/** Indices of the runs that pass every brush; a run missing a brushed value does not pass. */
export function passingRuns(axes: readonly Axis[], brushes: ReadonlyMap<string, Brush>, count: number): number[] {
  const passing: number[] = [];
  for (let run = 0; run < count; run += 1) {
    let ok = true;
    for (const axis of axes) {
      const brush = brushes.get(axis.title);
      if (!brush) continue;
      const p = axis.positions[run];
      if (p === undefined || p < brush.low - 1e-9 || p > brush.high + 1e-9) {
        ok = false;
        break;
      }
    }
    if (ok) passing.push(run);
  }
  return passing;
}

/** Params whose values differ between the runs (at most `limit`), the default axes. */
export function varyingParams(paramKeys: readonly string[], valueOf: (key: string) => readonly (string | undefined)[], limit: number): string[] {
  return paramKeys.filter((key) => new Set(valueOf(key)).size > 1).slice(0, limit);
}
