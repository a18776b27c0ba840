import { memo, useCallback, type ReactNode } from 'react';
import {
  assessmentValue,
  durationMs,
  experimentIdOf,
  requestTimeMs,
  tokenUsage,
  traceName,
  userTags,
  validAssessments,
  type TraceInfo,
} from '../../api/traces';
import { VirtualRows } from '../../components/VirtualRows';
import { hrefOf, paths } from '../../routing/route';
import { formatDuration, formatTime } from '../../util/format';

const ROW_HEIGHT = 30;
const PREFETCH_ROWS = 50;

export type TraceSort = 'timestamp_ms DESC' | 'timestamp_ms ASC' | 'execution_time_ms DESC' | 'execution_time_ms ASC';

interface Column {
  id: string;
  title: string;
  width: number;
  sortKey?: string;
  cell: (t: TraceInfo) => { text: string; className?: string };
}

const oneLine = (text: string | undefined): string => (text ?? '').replace(/\s+/g, ' ').slice(0, 300);

const COLUMNS: readonly Column[] = [
  { id: 'request', title: 'Request', width: 300, cell: (t) => ({ text: oneLine(t.request_preview) }) },
  { id: 'response', title: 'Response', width: 300, cell: (t) => ({ text: oneLine(t.response_preview) }) },
  { id: 'name', title: 'Name', width: 130, cell: (t) => ({ text: traceName(t) }) },
  { id: 'time', title: 'Time', width: 150, sortKey: 'timestamp_ms', cell: (t) => ({ text: formatTime(requestTimeMs(t)) }) },
  {
    id: 'latency',
    title: 'Latency',
    width: 80,
    sortKey: 'execution_time_ms',
    cell: (t) => ({ text: formatDuration(durationMs(t.execution_duration)), className: 'num' }),
  },
  { id: 'state', title: 'Status', width: 100, cell: (t) => ({ text: t.state ?? '', className: `trace-state state-${t.state}` }) },
  { id: 'tokens', title: 'Tokens', width: 70, cell: (t) => ({ text: String(tokenUsage(t)?.total ?? ''), className: 'num' }) },
  { id: 'tags', title: 'Tags', width: 170, cell: (t) => ({ text: userTags(t).map(([k, v]) => `${k}=${v}`).join(', ') }) },
  {
    id: 'assessments',
    title: 'Assessments',
    width: 220,
    cell: (t) => ({ text: validAssessments(t).map((a) => `${a.assessment_name}: ${assessmentValue(a)}`).join(', ') }),
  },
];
const ID_WIDTH = 120;
export const TABLE_WIDTH = ID_WIDTH + COLUMNS.reduce((sum, c) => sum + c.width, 0);

const TraceRow = memo(function TraceRow({ trace, fallbackExperiment }: { trace: TraceInfo; fallbackExperiment: string }): ReactNode {
  const experiment = experimentIdOf(trace) ?? fallbackExperiment;
  return (
    <div className="run-row" data-testid="trace-row" data-trace-id={trace.trace_id}>
      <div className="cell name mono" style={{ width: ID_WIDTH }}>
        <a href={hrefOf(paths.trace(experiment, trace.trace_id))} title={trace.trace_id}>
          {trace.trace_id.replace(/^tr-/, '').slice(0, 10)}
        </a>
      </div>
      {COLUMNS.map((column) => {
        const { text, className } = column.cell(trace);
        return (
          <div key={column.id} className={`cell trace-${column.id} ${className ?? ''}`} style={{ width: column.width }} title={text}>
            {text}
          </div>
        );
      })}
    </div>
  );
});

interface Props {
  traces: readonly TraceInfo[];
  experimentId: string;
  sort: TraceSort;
  onSort: (sort: TraceSort) => void;
  hasMore: boolean;
  loadMore: () => void;
}

export function TracesTable({ traces, experimentId, sort, onSort, hasMore, loadMore }: Props): ReactNode {
  const onRangeEnd = useCallback(
    (end: number) => {
      if (hasMore && end >= traces.length - PREFETCH_ROWS) loadMore();
    },
    [hasMore, traces.length, loadMore],
  );
  const [sortKey, direction] = sort.split(' ');
  const header = (
    <>
      <div className="cell head" style={{ width: ID_WIDTH }}>
        Trace
      </div>
      {COLUMNS.map((column) => (
        <div key={column.id} className="cell head" style={{ width: column.width }}>
          {column.sortKey ? (
            <button
              type="button"
              className="sort"
              data-testid={`trace-sort-${column.id}`}
              onClick={() => onSort(`${column.sortKey} ${column.sortKey === sortKey && direction === 'DESC' ? 'ASC' : 'DESC'}` as TraceSort)}
            >
              {column.title}
              {column.sortKey === sortKey ? (direction === 'ASC' ? ' ▲' : ' ▼') : ''}
            </button>
          ) : (
            column.title
          )}
        </div>
      ))}
    </>
  );
  return (
    <VirtualRows
      count={traces.length}
      rowHeight={ROW_HEIGHT}
      width={TABLE_WIDTH}
      header={header}
      renderRow={(i) => (traces[i] ? <TraceRow trace={traces[i]} fallbackExperiment={experimentId} /> : null)}
      onRangeEnd={onRangeEnd}
    />
  );
}
