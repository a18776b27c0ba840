import { describe, expect, it } from 'vitest';
import { parseHash, paths, routeOf } from '../../routing/route';

describe('trace routes', () => {
  it('opens a trace at /experiments/<id>/traces/<trace_id> and builds that path back', () => {
    const path = paths.trace('7', 'tr-0123abcd');
    expect(path).toBe('/experiments/7/traces/tr-0123abcd');
    expect(routeOf(parseHash(`#${path}`))).toEqual({ page: 'trace', experimentId: '7', traceId: 'tr-0123abcd' });
  });

  it('keeps the experiment page for its traces and sessions tabs', () => {
    expect(routeOf(parseHash('#/experiments/7?tab=traces&tq=trace.status%20%3D%20%27OK%27'))).toEqual({ page: 'runs', experimentIds: ['7'] });
  });
});
