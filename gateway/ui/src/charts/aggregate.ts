// Per-x statistics of a group of aligned series: mean, population std (ddof 0), min, max, median.

export interface Band {
  mean: (number | null)[];
  std: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  median: (number | null)[];
  /** How many runs had a value at each x. */
  count: number[];
}

function medianOf(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Statistics over `columns` at every x index; an x where no run has a value stays null. */
export function aggregate(columns: readonly (readonly (number | null)[])[], length: number): Band {
  const band: Band = { mean: [], std: [], min: [], max: [], median: [], count: [] };
  const values: number[] = [];
  for (let i = 0; i < length; i += 1) {
    values.length = 0;
    for (const column of columns) {
      const v = column[i];
      if (v !== null && v !== undefined && Number.isFinite(v)) values.push(v);
    }
    band.count.push(values.length);
    if (values.length === 0) {
      band.mean.push(null);
      band.std.push(null);
      band.min.push(null);
      band.max.push(null);
      band.median.push(null);
      continue;
    }
    let sum = 0;
    for (const v of values) sum += v;
    const mean = sum / values.length;
    let squares = 0;
    for (const v of values) squares += (v - mean) ** 2;
    values.sort((a, b) => a - b);
    band.mean.push(mean);
    band.std.push(Math.sqrt(squares / values.length));
    band.min.push(values[0] as number);
    band.max.push(values[values.length - 1] as number);
    band.median.push(medianOf(values));
  }
  return band;
}

/** Fills gaps inside a series by carrying the last value forward, so runs sampled at different x still aggregate. */
export function carryForward(column: readonly (number | null)[]): (number | null)[] {
  const out: (number | null)[] = [];
  let last: number | null = null;
  let seen = 0;
  const lastIndex = column.reduce<number>((found, v, i) => (v === null ? found : i), -1);
  for (let i = 0; i < column.length; i += 1) {
    const v = column[i] ?? null;
    if (v !== null) {
      last = v;
      seen += 1;
    }
    out.push(seen === 0 || i > lastIndex ? null : (v ?? last));
  }
  return out;
}
