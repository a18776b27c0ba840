import { useEffect, useState, type ReactNode } from 'react';
import { assessmentValue, durationMs, experimentIdOf, requestTimeMs, searchTraces, validAssessments, type TraceInfo } from '../../api/traces';
import { ErrorBox } from '../../components/ErrorBox';
import { hrefOf, paths } from '../../routing/route';
import { useLocation } from '../../routing/useLocation';
import { formatDuration, formatTime } from '../../util/format';
import { plural } from '../../util/plural';
import { useAsync } from '../../util/useAsync';
import { addToSessions, HAS_SESSION, sessionFilter, sortedSessions, type SessionSummary } from './sessions';
import './traces.css';

/** Traces read to build the session list; MLflow's client pages the same way. */
const SCAN_LIMIT = 20_000;
const SCAN_PAGE = 500;

interface Scan {
  key: string;
  sessions: SessionSummary[];
  scanned: number;
  done: boolean;
  error?: Error;
}

function useSessions(experimentIds: readonly string[]): Scan {
  const key = experimentIds.join(',');
  const [scan, setScan] = useState<Scan>({ key, sessions: [], scanned: 0, done: false });
  useEffect(() => {
    const controller = new AbortController();
    const all = new Map<string, SessionSummary>();
    let scanned = 0;
    const step = async (pageToken: string | undefined): Promise<void> => {
      const page = await searchTraces({ experimentIds, filter: HAS_SESSION, orderBy: ['timestamp_ms DESC'], pageSize: SCAN_PAGE, pageToken }, controller.signal);
      addToSessions(all, page.traces);
      scanned += page.traces.length;
      const done = !page.nextPageToken || scanned >= SCAN_LIMIT;
      setScan({ key, sessions: sortedSessions(all), scanned, done });
      if (!done) await step(page.nextPageToken);
    };
    step(undefined).catch((error: unknown) => {
      if (!controller.signal.aborted) setScan({ key, sessions: sortedSessions(all), scanned, done: true, error: error instanceof Error ? error : new Error(String(error)) });
    });
    return () => controller.abort();
    // experimentIds is captured by its joined key
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return scan.key === key ? scan : { key, sessions: [], scanned: 0, done: false };
}

function SessionList({ experimentIds, onOpen }: { experimentIds: readonly string[]; onOpen: (id: string) => void }): ReactNode {
  const scan = useSessions(experimentIds);
  return (
    <div data-testid="sessions">
      {scan.error && <ErrorBox error={scan.error} />}
      <div className="status-line" data-testid="sessions-count">
        {plural(scan.sessions.length, 'session')} in {plural(scan.scanned, 'trace')}
        {scan.done ? '' : ' (loading…)'}
      </div>
      <table className="grid sessions-table">
        <thead>
          <tr>
            <th>session</th>
            <th>traces</th>
            <th>first request</th>
            <th>started</th>
            <th>last activity</th>
            <th>errors</th>
            <th>tokens</th>
            <th>users</th>
          </tr>
        </thead>
        <tbody>
          {scan.sessions.map((s) => (
            <tr key={s.id} data-testid="session-row" data-session={s.id}>
              <td>
                <button type="button" className="link" onClick={() => onOpen(s.id)}>
                  {s.id}
                </button>
              </td>
              <td className="num">{s.traces}</td>
              <td className="preview">{s.opening.slice(0, 200)}</td>
              <td>{formatTime(s.first)}</td>
              <td>{formatTime(s.last)}</td>
              <td className={s.errors ? 'num trace-state state-ERROR' : 'num'}>{s.errors}</td>
              <td className="num">{s.tokens || ''}</td>
              <td>{s.users.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Turn({ trace, experimentId }: { trace: TraceInfo; experimentId: string }): ReactNode {
  const experiment = experimentIdOf(trace) ?? experimentId;
  return (
    <li className="session-turn" data-testid="session-turn" data-trace-id={trace.trace_id}>
      <div className="muted">
        <a href={hrefOf(paths.trace(experiment, trace.trace_id))}>{formatTime(requestTimeMs(trace))}</a> ·{' '}
        <span className={`trace-state state-${trace.state}`}>{trace.state}</span> · {formatDuration(durationMs(trace.execution_duration))}
        {validAssessments(trace).map((a) => (
          <span key={a.assessment_id ?? a.assessment_name} className="trace-tag">
            {a.assessment_name}: {assessmentValue(a)}
          </span>
        ))}
      </div>
      <div className="turn-request pre">{trace.request_preview}</div>
      <div className="turn-response pre">{trace.response_preview}</div>
    </li>
  );
}

function SessionDetail({ experimentIds, session }: { experimentIds: readonly string[]; session: string }): ReactNode {
  const { data, error } = useAsync(`${experimentIds.join(',')}|${session}`, (signal) =>
    searchTraces({ experimentIds, filter: sessionFilter(session), orderBy: ['timestamp_ms ASC'], pageSize: 500 }, signal),
  );
  return (
    <div data-testid="session-detail">
      <h2>
        Session <code>{session}</code>
      </h2>
      {error && <ErrorBox error={error} />}
      {data && (
        <>
          <p className="muted" data-testid="session-turns">
            {plural(data.traces.length, 'trace')}
            {data.nextPageToken ? ' (first 500)' : ''}
          </p>
          <ol className="session-turns">
            {data.traces.map((t) => (
              <Turn key={t.trace_id} trace={t} experimentId={experimentIds[0] ?? ''} />
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

/** Traces grouped by session id; a session opens as its traces in time order. */
export function SessionsTab({ experimentIds }: { experimentIds: readonly string[] }): ReactNode {
  const { query, setQuery } = useLocation();
  const session = query.get('session');
  if (session) {
    return (
      <div className="sessions-tab">
        <button type="button" className="link" onClick={() => setQuery({ session: undefined })} data-testid="sessions-back">
          ← all sessions
        </button>
        <SessionDetail experimentIds={experimentIds} session={session} />
      </div>
    );
  }
  return (
    <div className="sessions-tab">
      <SessionList experimentIds={experimentIds} onOpen={(id) => setQuery({ session: id })} />
    </div>
  );
}
