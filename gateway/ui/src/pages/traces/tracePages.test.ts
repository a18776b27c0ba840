import { describe, expect, it } from 'vitest';
import type { TraceInfo } from '../../api/traces';
import { addToSessions, sessionFilter, sortedSessions, type SessionSummary } from './sessions';
import { appendPage, mergeHead } from './tracePages';

const t = (id: string, extra: Partial<TraceInfo> = {}): TraceInfo => ({ trace_id: id, ...extra });

describe('trace pages', () => {
  it('appends pages without repeating traces an offset shift brought back', () => {
    expect(appendPage([t('a'), t('b')], [t('b'), t('c')]).map((x) => x.trace_id)).toEqual(['a', 'b', 'c']);
  });

  it('puts new traces of a live-tail poll on top and refreshes listed ones', () => {
    const list = [t('b', { state: 'IN_PROGRESS' }), t('a')];
    const { traces, added } = mergeHead(list, [t('d'), t('c'), t('b', { state: 'OK' })]);
    expect(traces.map((x) => x.trace_id)).toEqual(['d', 'c', 'b', 'a']);
    expect(traces[2]?.state).toBe('OK');
    expect(added).toBe(2);
    expect(mergeHead(list, []).traces).toBe(list);
  });
});

describe('sessions', () => {
  it('groups traces by session id with counts, time range, errors, tokens and users', () => {
    const all = new Map<string, SessionSummary>();
    const meta = (session: string, user: string, tokens: number): Record<string, string> => ({
      'mlflow.trace.session': session,
      'mlflow.trace.user': user,
      'mlflow.trace.tokenUsage': JSON.stringify({ input_tokens: 1, output_tokens: 1, total_tokens: tokens }),
    });
    addToSessions(all, [
      t('1', { trace_metadata: meta('s1', 'alice', 10), request_time: '2026-01-01T00:00:10Z', execution_duration: '1s', request_preview: 'second' }),
      t('2', { trace_metadata: meta('s1', 'alice', 5), request_time: '2026-01-01T00:00:00Z', execution_duration: '2s', request_preview: 'first', state: 'ERROR' }),
      t('3', { trace_metadata: meta('s2', 'bob', 1), request_time: '2026-01-01T00:01:00Z' }),
      t('4'),
    ]);
    const [s2, s1] = sortedSessions(all);
    expect(s2?.id).toBe('s2');
    expect(s1).toMatchObject({ id: 's1', traces: 2, errors: 1, tokens: 15, users: ['alice'], opening: 'first' });
    expect(s1?.last).toBe(Date.parse('2026-01-01T00:00:11Z'));
  });

  it('quotes a session id for the search grammar', () => {
    expect(sessionFilter("it's")).toBe("metadata.`mlflow.trace.session` = 'it\\'s'");
  });
});
