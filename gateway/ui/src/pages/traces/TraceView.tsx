import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { durationMs, getTraceInfo, requestTimeMs, sessionId, sourceRunId, tokenUsage, traceName, userTags, type TraceInfo } from '../../api/traces';
import { ErrorBox } from '../../components/ErrorBox';
import { useCan } from '../signin/access';
import { useSession } from '../signin/session';
import { hrefOf, paths } from '../../routing/route';
import { formatDuration, formatTime } from '../../util/format';
import { useAsync } from '../../util/useAsync';
import { AssessmentsPanel } from './AssessmentsPanel';
import type { SpanDetail } from './spanJson';
import { SpanDetailPane } from './SpanDetailPane';
import { SpanFind } from './SpanFind';
import { SpanTreeView } from './SpanTreeView';
import { TraceTags } from './TraceTags';
import { useTraceSpans } from './useTraceSpans';
import './traces.css';

function TraceHeader({ experimentId, info, canEdit, onChanged }: { experimentId: string; info: TraceInfo; canEdit: boolean; onChanged: () => void }): ReactNode {
  const runId = sourceRunId(info);
  const session = sessionId(info);
  const tokens = tokenUsage(info);
  const tags = userTags(info);
  return (
    <div className="trace-header">
      <p className="muted" data-testid="trace-meta">
        <span className={`trace-state state-${info.state}`} data-testid="trace-state">
          {info.state}
        </span>{' '}
        · {formatTime(requestTimeMs(info))} · {formatDuration(durationMs(info.execution_duration))}
        {tokens?.total !== undefined && ` · ${tokens.total} tokens (${tokens.input ?? 0} in, ${tokens.output ?? 0} out)`}
        {runId && (
          <>
            {' · '}
            <a href={hrefOf(paths.run(experimentId, runId))} data-testid="trace-run-link">
              run {runId.slice(0, 8)}
            </a>
          </>
        )}
        {session && (
          <>
            {' · '}
            <a href={hrefOf(paths.experiment(experimentId), { tab: 'sessions', session })} data-testid="trace-session-link">
              session {session}
            </a>
          </>
        )}
      </p>
      <TraceTags traceId={info.trace_id} tags={tags} canEdit={canEdit} onChanged={onChanged} />
    </div>
  );
}

function useSpanDetail(selected: string | undefined, detail: (id: string) => Promise<SpanDetail | undefined>, ready: boolean): SpanDetail | undefined {
  const [shown, setShown] = useState<SpanDetail | undefined>(undefined);
  useEffect(() => {
    if (!selected || !ready) return undefined;
    let live = true;
    detail(selected).then((d) => {
      if (live) setShown(d);
    }, () => undefined);
    return () => {
      live = false;
    };
  }, [selected, detail, ready]);
  return selected && shown?.row.id === selected ? shown : undefined;
}

/** One trace: its span tree and waterfall, the selected span's payloads, and its assessments. */
export function TraceView({ experimentId, traceId }: { experimentId: string; traceId: string }): ReactNode {
  const info = useAsync(traceId, (signal) => getTraceInfo(traceId, signal));
  const spans = useTraceSpans(traceId);
  // Assessments and tags are writes on the trace's experiment: EDIT there, as the server checks.
  const canEdit = useCan('experiment', experimentId, 'EDIT');
  const session = useSession();
  const sourceId = session.state === 'signed-in' ? session.user.username : 'ui';
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const { tree, version } = spans;
  const rows = useMemo(() => {
    void version; // the tree is mutable; its version says when it changed
    return tree.visible(collapsed);
  }, [tree, version, collapsed]);
  const selected = picked ?? rows[0]?.node.span.id;
  const detail = useSpanDetail(selected, spans.detail, spans.loaded > 0);
  const toggle = useCallback((id: string) => {
    setCollapsed((c) => {
      const next = new Set(c);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);
  const selectSpan = useCallback((id: string) => {
    setPicked(id);
    setCollapsed((c) => {
      const path = tree.ancestors(id).filter((a) => c.has(a));
      if (path.length === 0) return c;
      const next = new Set(c);
      for (const a of path) next.delete(a);
      return next;
    });
  }, [tree]);
  const root = tree.roots[0]?.span.name;
  const title = (info.data && traceName(info.data)) || root || traceId;
  return (
    <section className="trace-view" data-testid="trace-view">
      <p className="crumbs">
        <a href={hrefOf(paths.experiment(experimentId), { tab: 'traces' })} data-testid="back-to-traces">
          ← traces
        </a>
      </p>
      <h1 data-testid="trace-title">
        {title} <code className="muted trace-id">{traceId}</code>
      </h1>
      {info.error && <ErrorBox error={info.error} />}
      {info.data && <TraceHeader experimentId={experimentId} info={info.data} canEdit={canEdit} onChanged={info.reload} />}
      {spans.error && <ErrorBox error={spans.error} />}
      <div className="toolbar">
        <span className="status-line" data-testid="span-count" data-done={spans.done || undefined}>
          {spans.loaded} span{spans.loaded === 1 ? '' : 's'}
          {spans.done ? '' : ' (loading…)'}
        </span>
        <SpanFind tree={tree} version={version} onPick={selectSpan} />
      </div>
      <div className="trace-layout">
        <div className="trace-tree">
          <SpanTreeView rows={rows} minStart={tree.minStart} maxEnd={tree.maxEnd} collapsed={collapsed} selected={selected} onToggle={toggle} onSelect={selectSpan} />
        </div>
        <div className="trace-side">
          {detail ? <SpanDetailPane detail={detail} traceStart={tree.minStart} /> : <p className="muted">{spans.loaded ? 'Loading span…' : ''}</p>}
        </div>
      </div>
      {info.data && <AssessmentsPanel traceId={traceId} assessments={info.data.assessments ?? []} onSpan={selectSpan} canEdit={canEdit} sourceId={sourceId} onChanged={info.reload} />}
    </section>
  );
}
