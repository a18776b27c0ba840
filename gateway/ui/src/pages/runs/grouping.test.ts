import { describe, expect, it } from 'vitest';
import type { Run } from '../../api/types';
import { aggregate, carryForward } from '../../charts/aggregate';
import { decodeGroupKeys, encodeGroupKeys, groupRuns, tableItems } from './grouping';

function run(id: string, params: Record<string, string>, tags: Record<string, string> = {}): Run {
  return {
    info: { run_id: id, experiment_id: '1', status: 'FINISHED', lifecycle_stage: 'active' },
    data: {
      params: Object.entries(params).map(([key, value]) => ({ key, value })),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    },
  };
}

describe('grouping runs', () => {
  const runs = [run('a', { lr: '0.1' }, { team: 'x' }), run('b', { lr: '0.01' }, { team: 'x' }), run('c', { lr: '0.1' }, { team: 'y' }), run('d', {})];

  it('groups by one param in order of first appearance, missing values in (none)', () => {
    const groups = groupRuns(runs, [{ kind: 'param', key: 'lr' }]);
    expect(groups.map((g) => [g.label, g.runs.map((r) => r.info.run_id)])).toEqual([
      ['lr=0.1', ['a', 'c']],
      ['lr=0.01', ['b']],
      ['lr=(none)', ['d']],
    ]);
    expect(new Set(groups.map((g) => g.color)).size).toBe(3);
  });

  it('groups by a param and a tag together', () => {
    const groups = groupRuns(runs, [{ kind: 'param', key: 'lr' }, { kind: 'tag', key: 'team' }]);
    expect(groups.map((g) => g.label)).toEqual(['lr=0.1, team=x', 'lr=0.01, team=x', 'lr=0.1, team=y', 'lr=(none), team=(none)']);
  });

  it('round-trips group keys through the URL form', () => {
    const keys = [{ kind: 'param' as const, key: 'a,b' }, { kind: 'tag' as const, key: 'team' }];
    expect(decodeGroupKeys(encodeGroupKeys(keys))).toEqual(keys);
    expect(decodeGroupKeys('bogus|metric:x|param:')).toEqual([]);
  });

  it('lays out group header rows and hides the runs of collapsed groups', () => {
    const groups = groupRuns(runs, [{ kind: 'tag', key: 'team' }]);
    const items = tableItems(runs, groups, new Set([groups[0]?.id ?? '']), () => '#000');
    expect(items.map((i) => (i.type === 'group' ? `group ${i.group.label}` : i.run.info.run_id))).toEqual([
      'group team=x',
      'group team=y',
      'c',
      'group team=(none)',
      'd',
    ]);
  });

  it('groups 10,000 runs quickly', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => run(String(i), { lr: String(i % 4), seed: String(i) }));
    const start = performance.now();
    const groups = groupRuns(many, [{ kind: 'param', key: 'lr' }]);
    expect(performance.now() - start).toBeLessThan(200);
    expect(groups.map((g) => g.runs.length)).toEqual([2500, 2500, 2500, 2500]);
  });
});

describe('aggregation per x', () => {
  it('computes mean, population std, min, max and median over the runs present', () => {
    const band = aggregate([[1, 2, null], [3, 4, null], [5, null, null]], 3);
    expect(band.mean).toEqual([3, 3, null]);
    expect(band.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(band.std[1]).toBeCloseTo(1, 12);
    expect(band.min).toEqual([1, 2, null]);
    expect(band.max).toEqual([5, 4, null]);
    expect(band.median).toEqual([3, 3, null]);
    expect(band.count).toEqual([3, 2, 0]);
  });

  it('carries a value forward inside a run but not past its last point', () => {
    expect(carryForward([null, 1, null, 2, null])).toEqual([null, 1, 1, 2, null]);
  });
});
