// Hash routes. The client prints `#/experiments/<id>` and `#/experiments/<id>/runs/<run_id>`;
// all other view state lives in the query part of the hash.

export type Route =
  | { page: 'experiments' }
  | { page: 'runs'; experimentIds: string[] }
  | { page: 'run'; experimentId: string; runId: string; tab?: string; artifactPath?: string }
  | { page: 'logged-model'; experimentId: string; modelId: string }
  | { page: 'registered-model'; name: string; version?: string }
  | { page: 'registered-models' }
  | { page: 'admin' }
  | { page: 'account' }
  | { page: 'compare'; runIds: string[] }
  | { page: 'trace'; experimentId: string; traceId: string }
  | { page: 'not-found'; path: string };

export interface Location {
  path: string;
  query: URLSearchParams;
}

export function parseHash(hash: string): Location {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  const mark = body.indexOf('?');
  const path = (mark < 0 ? body : body.slice(0, mark)) || '/';
  const query = new URLSearchParams(mark < 0 ? '' : body.slice(mark + 1));
  return { path, query };
}

export function formatHash(path: string, query: URLSearchParams): string {
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function listParam(query: URLSearchParams, name: string): string[] {
  const value = query.get(name);
  return value ? value.split(',').filter(Boolean) : [];
}

export function routeOf(location: Location): Route {
  const parts = location.path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'experiments')) {
    return { page: 'experiments' };
  }
  if (parts[0] === 'experiments' && parts.length === 2 && parts[1]) {
    return { page: 'runs', experimentIds: [parts[1]] };
  }
  if (parts[0] === 'experiments' && parts.length === 4 && parts[2] === 'runs' && parts[1] && parts[3]) {
    return { page: 'run', experimentId: parts[1], runId: parts[3] };
  }
  // MLflow's deep links: .../runs/<id>/artifacts[/<path>], .../runs/<id>/model-metrics.
  if (parts[0] === 'experiments' && parts.length >= 5 && parts[2] === 'runs' && parts[1] && parts[3]) {
    const tab = parts[4] === 'model-metrics' ? 'overview' : parts[4];
    const artifactPath = parts[4] === 'artifacts' && parts.length > 5 ? parts.slice(5).join('/') : undefined;
    return { page: 'run', experimentId: parts[1], runId: parts[3], tab, artifactPath };
  }
  if (parts[0] === 'experiments' && parts.length === 4 && parts[2] === 'traces' && parts[1] && parts[3]) {
    return { page: 'trace', experimentId: parts[1], traceId: parts[3] };
  }
  if (parts[0] === 'experiments' && parts.length >= 4 && parts[2] === 'models' && parts[1] && parts[3]) {
    return { page: 'logged-model', experimentId: parts[1], modelId: parts[3] };
  }
  if (parts.length === 1 && parts[0] === 'models') return { page: 'registered-models' };
  if (parts.length === 1 && parts[0] === 'admin') return { page: 'admin' };
  if (parts.length === 1 && parts[0] === 'account') return { page: 'account' };
  if (parts[0] === 'models' && parts[1]) {
    return { page: 'registered-model', name: parts[1], version: parts[2] === 'versions' ? parts[3] : undefined };
  }
  // A run by id alone (the registry knows a version's run, not its experiment).
  if (parts.length === 2 && parts[0] === 'runs' && parts[1]) {
    return { page: 'run', experimentId: '', runId: parts[1] };
  }
  if (parts.length === 1 && parts[0] === 'runs') {
    return { page: 'runs', experimentIds: listParam(location.query, 'experiments') };
  }
  if (parts.length === 1 && parts[0] === 'compare') {
    return { page: 'compare', runIds: listParam(location.query, 'runs') };
  }
  return { page: 'not-found', path: location.path };
}

export const paths = {
  experiments: (): string => '/experiments',
  experiment: (id: string): string => `/experiments/${encodeURIComponent(id)}`,
  run: (experimentId: string, runId: string): string =>
    `/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}`,
  runs: (): string => '/runs',
  runById: (runId: string): string => `/runs/${encodeURIComponent(runId)}`,
  loggedModel: (experimentId: string, modelId: string): string =>
    `/experiments/${encodeURIComponent(experimentId)}/models/${encodeURIComponent(modelId)}`,
  registeredModel: (name: string): string => `/models/${encodeURIComponent(name)}`,
  registeredModels: (): string => '/models',
  modelVersion: (name: string, version: string): string =>
    `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
  admin: (): string => '/admin',
  account: (): string => '/account',
  compare: (): string => '/compare',
  trace: (experimentId: string, traceId: string): string =>
    `/experiments/${encodeURIComponent(experimentId)}/traces/${encodeURIComponent(traceId)}`,
};

/** Returns `query` with `changes` applied; empty strings and undefined remove a key. */
export function withQuery(
  query: URLSearchParams,
  changes: Record<string, string | undefined>,
): URLSearchParams {
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') next.delete(key);
    else next.set(key, value);
  }
  return next;
}

export function hrefOf(path: string, query?: Record<string, string>): string {
  return formatHash(path, new URLSearchParams(query));
}
