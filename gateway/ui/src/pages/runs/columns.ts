// What the runs table can show, and how a cell's value is read from a run.
import type { KeyValue, Run } from '../../api/types';
import { formatDuration, formatNumber, formatTime, runDuration } from '../../util/format';
import type { ColumnId } from '../../util/searchKeys';

interface Lookup {
  metrics: Map<string, string>;
  params: Map<string, string>;
  tags: Map<string, string>;
}

const lookups = new WeakMap<Run, Lookup>();

function mapOf(items: readonly KeyValue[] | undefined): Map<string, string> {
  return new Map((items ?? []).map((item) => [item.key, item.value]));
}

function lookupOf(run: Run): Lookup {
  let found = lookups.get(run);
  if (!found) {
    found = {
      metrics: new Map((run.data.metrics ?? []).map((m) => [m.key, formatNumber(m.value)])),
      params: mapOf(run.data.params),
      tags: mapOf(run.data.tags),
    };
    lookups.set(run, found);
  }
  return found;
}

/** Attribute columns; `sortable` ones are accepted by the server's order_by. */
export const ATTRIBUTES: readonly { key: string; title: string; sortable: boolean }[] = [
  { key: 'status', title: 'Status', sortable: true },
  { key: 'start_time', title: 'Started', sortable: true },
  { key: 'end_time', title: 'Ended', sortable: true },
  { key: 'duration', title: 'Duration', sortable: false },
  { key: 'user_id', title: 'User', sortable: true },
  { key: 'experiment_id', title: 'Experiment', sortable: false },
  { key: 'run_id', title: 'Run ID', sortable: true },
];

const RUN_NAME = { key: 'run_name', title: 'Run name', sortable: true };

export function isSortable(column: ColumnId): boolean {
  return column.kind !== 'attribute' || [RUN_NAME, ...ATTRIBUTES].some((a) => a.key === column.key && a.sortable);
}

export function titleOf(column: ColumnId): string {
  if (column.kind === 'attribute') {
    return [RUN_NAME, ...ATTRIBUTES].find((a) => a.key === column.key)?.title ?? column.key;
  }
  return column.key;
}

function attributeValue(run: Run, key: string, context: CellContext): string {
  const info = run.info;
  switch (key) {
    case 'status':
      return info.status;
    case 'start_time':
      return formatTime(info.start_time);
    case 'end_time':
      return formatTime(info.end_time);
    case 'duration':
      return formatDuration(runDuration(info.start_time, info.end_time, context.now));
    case 'user_id':
      return info.user_id ?? '';
    case 'experiment_id':
      return context.experimentNames.get(info.experiment_id) ?? info.experiment_id;
    case 'run_id':
      return info.run_id;
    default:
      return '';
  }
}

/** What a cell needs besides its run: the clock for running durations, experiment names. */
export interface CellContext {
  now: number;
  experimentNames: ReadonlyMap<string, string>;
}

export function cellValue(run: Run, column: ColumnId, context: CellContext): string {
  const lookup = lookupOf(run);
  switch (column.kind) {
    case 'attribute':
      return attributeValue(run, column.key, context);
    case 'metric':
      return lookup.metrics.get(column.key) ?? '';
    case 'param':
      return lookup.params.get(column.key) ?? '';
    case 'tag':
      return lookup.tags.get(column.key) ?? '';
  }
}

export interface AvailableKeys {
  metrics: string[];
  params: string[];
  tags: string[];
}

/** Every metric, param and tag key present in the loaded runs, sorted. */
export function availableKeys(runs: readonly Run[]): AvailableKeys {
  const metrics = new Set<string>();
  const params = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    for (const m of run.data.metrics ?? []) metrics.add(m.key);
    for (const p of run.data.params ?? []) params.add(p.key);
    for (const t of run.data.tags ?? []) tags.add(t.key);
  }
  const sorted = (set: Set<string>): string[] => [...set].sort();
  return { metrics: sorted(metrics), params: sorted(params), tags: sorted(tags) };
}

/** Shown until the user picks columns: a few attributes, metrics and params. */
export function defaultColumns(keys: AvailableKeys, multiExperiment: boolean): ColumnId[] {
  const attributes = ['status', 'start_time', 'duration', 'user_id', ...(multiExperiment ? ['experiment_id'] : [])];
  return [
    ...attributes.map((key) => ({ kind: 'attribute' as const, key })),
    ...keys.metrics.slice(0, 4).map((key) => ({ kind: 'metric' as const, key })),
    ...keys.params.slice(0, 4).map((key) => ({ kind: 'param' as const, key })),
  ];
}

export function runName(run: Run): string {
  return run.info.run_name || lookupOf(run).tags.get('mlflow.runName') || run.info.run_id;
}
