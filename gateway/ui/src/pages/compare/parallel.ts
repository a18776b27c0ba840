// Axes of the parallel-coordinates plot: numeric axes scale linearly, others are categorical.

export interface Axis {
  title: string;
  /** Position of each run's value on the axis, 0 (bottom) to 1 (top); undefined = missing. */
  positions: (number | undefined)[];
  ticks: { label: string; at: number }[];
}

function isNumeric(values: readonly string[]): boolean {
  return values.length > 0 && values.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

export function axisOf(title: string, values: readonly (string | undefined)[]): Axis {
  const present = values.filter((v): v is string => v !== undefined);
  if (isNumeric(present)) {
    const numbers = present.map(Number);
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    const span = max - min;
    const at = (n: number): number => (span === 0 ? 0.5 : (n - min) / span);
    return {
      title,
      positions: values.map((v) => (v === undefined ? undefined : at(Number(v)))),
      ticks: span === 0 ? [{ label: formatTick(min), at: 0.5 }] : [min, min + span / 2, max].map((n) => ({ label: formatTick(n), at: at(n) })),
    };
  }
  const categories = [...new Set(present)].sort();
  const at = (v: string): number => (categories.length === 1 ? 0.5 : categories.indexOf(v) / (categories.length - 1));
  return {
    title,
    positions: values.map((v) => (v === undefined ? undefined : at(v))),
    ticks: categories.map((label) => ({ label, at: at(label) })),
  };
}

/** Blue (low) to red (high) for the metric axis position. */
export function heatColor(position: number | undefined): string {
  if (position === undefined) return '#999';
  const hue = 240 - 240 * Math.min(Math.max(position, 0), 1);
  return `hsl(${hue.toFixed(0)}, 70%, 45%)`;
}
