// Hover over many charts of many series: every chart's mouse moves go through one shared
// animation-frame slot (the latest move wins, at most one cursor update per frame for the whole
// page), and each series finds its point by binary search on the indices where it has values.
import type uPlot from 'uplot';

let pending: (() => void) | undefined;
let frame = 0;

/** Runs `update` in the next animation frame, replacing any update not yet run. */
export function scheduleHover(update: () => void): void {
  pending = update;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const run = pending;
    pending = undefined;
    run?.();
  });
}

/** uPlot's mousemove handler, throttled through the shared frame. */
export const throttledMove: uPlot.Cursor.MouseListenerFactory = (_self, _target, handler) => (event) => {
  scheduleHover(() => handler(event));
  return null;
};

/** For each y column, the ascending indices where it has a value. */
export function presentIndices(data: readonly (readonly (number | null | undefined)[])[]): Int32Array[] {
  return data.map((column) => {
    const found: number[] = [];
    for (let i = 0; i < column.length; i += 1) if (column[i] !== null && column[i] !== undefined) found.push(i);
    return Int32Array.from(found);
  });
}

/**
 * The index in `present` (ascending) nearest to `target`, the lower one on a tie; null when
 * empty. O(log n).
 */
export function nearestPresent(present: Int32Array, target: number): number | null {
  if (present.length === 0) return null;
  let lo = 0;
  let hi = present.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((present[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  const right = present[lo] as number;
  if (right === target || lo === 0) return right;
  const left = present[lo - 1] as number;
  if (right < target) return right;
  return target - left <= right - target ? left : right;
}
