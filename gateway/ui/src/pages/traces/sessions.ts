// Sessions: traces sharing the metadata `mlflow.trace.session`. MLflow has no session route;
// like its client, the UI pages through the trace search and groups by that key.
import { durationMs, requestTimeMs, sessionId, tokenUsage, type TraceInfo } from '../../api/traces';

export const SESSION_KEY = 'mlflow.trace.session';

export interface SessionSummary {
  id: string;
  traces: number;
  first: number | undefined;
  last: number | undefined;
  errors: number;
  tokens: number;
  users: string[];
  /** The request preview of the session's first trace. */
  opening: string;
}

/** Search filter for the traces of one session, the value quoted for the grammar. */
export function sessionFilter(id: string): string {
  return `metadata.\`${SESSION_KEY}\` = '${id.replaceAll("'", "\\'")}'`;
}

export const HAS_SESSION = `metadata.\`${SESSION_KEY}\` IS NOT NULL`;

/** Adds traces to the running summaries (keyed by session id); traces without one are skipped. */
export function addToSessions(sessions: Map<string, SessionSummary>, traces: readonly TraceInfo[]): void {
  for (const trace of traces) {
    const id = sessionId(trace);
    if (!id) continue;
    let s = sessions.get(id);
    if (!s) {
      s = { id, traces: 0, first: undefined, last: undefined, errors: 0, tokens: 0, users: [], opening: '' };
      sessions.set(id, s);
    }
    const time = requestTimeMs(trace);
    const end = time === undefined ? undefined : time + (durationMs(trace.execution_duration) ?? 0);
    s.traces += 1;
    if (time !== undefined && (s.first === undefined || time < s.first)) {
      s.first = time;
      s.opening = trace.request_preview ?? '';
    }
    if (end !== undefined && (s.last === undefined || end > s.last)) s.last = end;
    if (trace.state === 'ERROR') s.errors += 1;
    s.tokens += tokenUsage(trace)?.total ?? 0;
    const user = trace.trace_metadata?.['mlflow.trace.user'];
    if (user && !s.users.includes(user)) s.users.push(user);
  }
}

/** Most recently active first. */
export function sortedSessions(sessions: ReadonlyMap<string, SessionSummary>): SessionSummary[] {
  return [...sessions.values()].sort((a, b) => (b.last ?? 0) - (a.last ?? 0) || (a.id < b.id ? -1 : 1));
}
