import { describe, expect, it } from 'vitest';
import { hrefOf, parseHash, paths, routeOf } from './route';

const route = (hash: string) => routeOf(parseHash(hash));

describe('registry and account routes', () => {
  it('opens the models list, the admin page and the account page', () => {
    expect(route('#/models')).toEqual({ page: 'registered-models' });
    expect(route('#/models?q=abc&sort=name')).toEqual({ page: 'registered-models' });
    expect(route('#/admin')).toEqual({ page: 'admin' });
    expect(route('#/account')).toEqual({ page: 'account' });
  });

  it("opens a run by its id alone (a model version's source run)", () => {
    expect(route(hrefOf(paths.runById('abc123')))).toEqual({ page: 'run', experimentId: '', runId: 'abc123' });
    expect(route('#/runs?experiments=1')).toEqual({ page: 'runs', experimentIds: ['1'] });
  });

  it('round-trips model and version names that need escaping', () => {
    const name = 'team/model #1';
    expect(route(hrefOf(paths.registeredModel(name)))).toEqual({ page: 'registered-model', name, version: undefined });
    expect(route(hrefOf(paths.modelVersion(name, '12')))).toEqual({ page: 'registered-model', name, version: '12' });
  });
});
