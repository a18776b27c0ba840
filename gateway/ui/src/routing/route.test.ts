import { describe, expect, it } from 'vitest';
import { formatHash, listParam, parseHash, routeOf, withQuery } from './route';

const route = (hash: string) => routeOf(parseHash(hash));

describe('hash routes', () => {
  it('opens the links the mlflow client prints', () => {
    expect(route('#/experiments/7')).toEqual({ page: 'runs', experimentIds: ['7'] });
    expect(route('#/experiments/7/runs/0123abcd')).toEqual({ page: 'run', experimentId: '7', runId: '0123abcd' });
  });

  it('maps the empty hash and the list to the experiments page', () => {
    expect(route('')).toEqual({ page: 'experiments' });
    expect(route('#/')).toEqual({ page: 'experiments' });
    expect(route('#/experiments?q=abc')).toEqual({ page: 'experiments' });
  });

  it('reads several experiments and compared runs from the query', () => {
    expect(route('#/runs?experiments=1,2')).toEqual({ page: 'runs', experimentIds: ['1', '2'] });
    expect(route('#/compare?runs=a,b,c')).toEqual({ page: 'compare', runIds: ['a', 'b', 'c'] });
  });

  it("resolves MLflow's deep links: artifacts, model metrics, logged and registered models", () => {
    expect(route('#/experiments/7/runs/ab/artifacts')).toMatchObject({ page: 'run', runId: 'ab', tab: 'artifacts' });
    expect(route('#/experiments/7/runs/ab/artifacts/model/MLmodel')).toMatchObject({ tab: 'artifacts', artifactPath: 'model/MLmodel' });
    expect(route('#/experiments/7/runs/ab/model-metrics')).toMatchObject({ page: 'run', tab: 'overview' });
    expect(route('#/experiments/7/models/m-123')).toEqual({ page: 'logged-model', experimentId: '7', modelId: 'm-123' });
    expect(route('#/models/my%20model')).toEqual({ page: 'registered-model', name: 'my model', version: undefined });
    expect(route('#/models/m/versions/3')).toEqual({ page: 'registered-model', name: 'm', version: '3' });
  });

  it('reports unknown paths', () => {
    expect(route('#/nope/1/2')).toEqual({ page: 'not-found', path: '/nope/1/2' });
  });
});

describe('view state in the query', () => {
  it('round-trips a filter with quotes, spaces and ampersands', () => {
    const filter = "params.model = 'a&b' and metrics.`my acc` > 0.5";
    const hash = formatHash('/experiments/1', new URLSearchParams({ q: filter }));
    expect(parseHash(hash).query.get('q')).toBe(filter);
    expect(parseHash(hash).path).toBe('/experiments/1');
  });

  it('removes keys set to empty or undefined and keeps the rest', () => {
    const next = withQuery(new URLSearchParams('q=x&sort=a&sel=1,2'), { q: '', sort: undefined, view: 'all' });
    expect(next.toString()).toBe('sel=1%2C2&view=all');
    expect(listParam(next, 'sel')).toEqual(['1', '2']);
    expect(listParam(next, 'missing')).toEqual([]);
  });
});
