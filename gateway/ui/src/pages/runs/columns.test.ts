import { describe, expect, it } from 'vitest';
import type { Run } from '../../api/types';
import { availableKeys, cellValue, defaultColumns, isSortable, runName } from './columns';

const run: Run = {
  info: { run_id: 'r1', experiment_id: '3', status: 'FINISHED', start_time: 1000, end_time: 4000, lifecycle_stage: 'active', user_id: 'ann' },
  data: {
    metrics: [{ key: 'acc', value: 0.5, timestamp: 1, step: 2 }],
    params: [{ key: 'lr', value: '0.1' }],
    tags: [{ key: 'mlflow.runName', value: 'tagged-name' }],
  },
};

describe('runs table columns', () => {
  it('reads attributes, latest metrics, params and tags', () => {
    const context = { now: 0, experimentNames: new Map([['3', 'iris']]) };
    expect(cellValue(run, { kind: 'attribute', key: 'duration' }, context)).toBe('3.0s');
    expect(cellValue(run, { kind: 'attribute', key: 'user_id' }, context)).toBe('ann');
    expect(cellValue(run, { kind: 'attribute', key: 'experiment_id' }, context)).toBe('iris');
    expect(cellValue(run, { kind: 'metric', key: 'acc' }, context)).toBe('0.5');
    expect(cellValue(run, { kind: 'param', key: 'lr' }, context)).toBe('0.1');
    expect(cellValue(run, { kind: 'tag', key: 'missing' }, context)).toBe('');
  });

  it('shows the experiment id while names are unknown', () => {
    expect(cellValue(run, { kind: 'attribute', key: 'experiment_id' }, { now: 0, experimentNames: new Map() })).toBe('3');
  });

  it('falls back to the runName tag for the name', () => {
    expect(runName(run)).toBe('tagged-name');
  });

  it('lists keys and builds default columns from them', () => {
    const keys = availableKeys([run]);
    expect(keys).toEqual({ metrics: ['acc'], params: ['lr'], tags: ['mlflow.runName'] });
    expect(defaultColumns(keys, true).map((c) => `${c.kind}:${c.key}`)).toEqual([
      'attribute:status',
      'attribute:start_time',
      'attribute:duration',
      'attribute:user_id',
      'attribute:experiment_id',
      'metric:acc',
      'param:lr',
    ]);
  });

  it('offers server-side sorting only where order_by accepts the key', () => {
    expect(isSortable({ kind: 'attribute', key: 'duration' })).toBe(false);
    expect(isSortable({ kind: 'attribute', key: 'run_name' })).toBe(true);
    expect(isSortable({ kind: 'metric', key: 'anything' })).toBe(true);
  });
});
