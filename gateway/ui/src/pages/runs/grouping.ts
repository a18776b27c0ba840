// Grouping runs by the values of one or more params or tags (URL `group=param:lr|tag:team`).
import type { Run } from '../../api/types';
import { colorOf } from '../../charts/series';

export interface GroupKey {
  kind: 'param' | 'tag';
  key: string;
}

export interface RunGroup {
  /** Stable id: the group's values joined, used for collapsing and colors. */
  id: string;
  /** `lr=0.1, team=nlp`; a missing value reads `(none)`. */
  label: string;
  runs: Run[];
  color: string;
}

const NONE = '(none)';

export function encodeGroupKeys(keys: readonly GroupKey[]): string {
  return keys.map((k) => `${k.kind}:${k.key}`).join('|');
}

export function decodeGroupKeys(text: string | null): GroupKey[] {
  if (!text) return [];
  const keys: GroupKey[] = [];
  for (const part of text.split('|')) {
    const colon = part.indexOf(':');
    const kind = part.slice(0, colon);
    const key = part.slice(colon + 1);
    if ((kind === 'param' || kind === 'tag') && key) keys.push({ kind, key });
  }
  return keys;
}

function valueIn(items: readonly { key: string; value: string }[] | undefined, key: string): string | undefined {
  if (!items) return undefined;
  for (const item of items) if (item.key === key) return item.value;
  return undefined;
}

export function groupValue(run: Run, key: GroupKey): string {
  return valueIn(key.kind === 'param' ? run.data.params : run.data.tags, key.key) ?? NONE;
}

/**
 * Runs split by the values of `keys`, groups in order of first appearance (so the table's sort
 * order decides the group order). One pass over the runs: 10,000 runs group in a few ms.
 */
export function groupRuns(runs: readonly Run[], keys: readonly GroupKey[]): RunGroup[] {
  if (keys.length === 0) return [];
  const groups = new Map<string, RunGroup>();
  for (const run of runs) {
    const values = keys.map((k) => groupValue(run, k));
    const id = values.join('\u0000');
    let group = groups.get(id);
    if (!group) {
      const label = keys.map((k, i) => `${k.key}=${values[i] ?? NONE}`).join(', ');
      group = { id, label, runs: [], color: colorOf(groups.size) };
      groups.set(id, group);
    }
    group.runs.push(run);
  }
  return [...groups.values()];
}

/** Param and tag keys worth grouping by: every key present in the runs. */
export function groupableKeys(runs: readonly Run[]): GroupKey[] {
  const params = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    for (const p of run.data.params ?? []) params.add(p.key);
    for (const t of run.data.tags ?? []) if (!t.key.startsWith('mlflow.')) tags.add(t.key);
  }
  return [
    ...[...params].sort().map((key) => ({ kind: 'param' as const, key })),
    ...[...tags].sort().map((key) => ({ kind: 'tag' as const, key })),
  ];
}

export type TableItem = { type: 'group'; group: RunGroup; collapsed: boolean } | { type: 'run'; run: Run; color: string };

/** The rows of a grouped table: a header per group, then its runs unless collapsed. */
export function tableItems(
  runs: readonly Run[],
  groups: readonly RunGroup[] | undefined,
  collapsed: ReadonlySet<string>,
  colorOfRun: (runId: string) => string,
): TableItem[] {
  if (!groups) return runs.map((run) => ({ type: 'run', run, color: colorOfRun(run.info.run_id) }));
  const items: TableItem[] = [];
  for (const group of groups) {
    const closed = collapsed.has(group.id);
    items.push({ type: 'group', group, collapsed: closed });
    if (!closed) for (const run of group.runs) items.push({ type: 'run', run, color: colorOfRun(run.info.run_id) });
  }
  return items;
}
