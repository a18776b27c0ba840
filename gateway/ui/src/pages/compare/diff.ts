import type { KeyValue } from '../../api/types';

export interface DiffRow {
  key: string;
  values: (string | undefined)[];
  differs: boolean;
}

/** One row per key across runs; a row differs when any run's value (or absence) differs. */
export function diffRows(perRun: readonly (readonly KeyValue[])[]): DiffRow[] {
  const maps = perRun.map((items) => new Map(items.map((i) => [i.key, i.value])));
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
  return keys.map((key) => {
    const values = maps.map((m) => m.get(key));
    return { key, values, differs: new Set(values).size > 1 };
  });
}
