import { useMemo, type ReactNode } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { SearchInput } from '../../components/SearchInput';
import { useLocation } from '../../routing/useLocation';
import { plural } from '../../util/plural';
import { FilterHelp } from './FilterHelp';
import { TraceOverviewStrip } from './TraceOverviewStrip';
import { TracesTable, type TraceSort } from './TracesTable';
import { useTracePages } from './useTracePages';
import './traces.css';

const SORTS: readonly TraceSort[] = ['timestamp_ms DESC', 'timestamp_ms ASC', 'execution_time_ms DESC', 'execution_time_ms ASC'];
const DEFAULT_SORT: TraceSort = 'timestamp_ms DESC';

/** The experiment's traces: MLflow's trace search grammar in the filter box, live tail on top. */
export function TracesTab({ experimentIds }: { experimentIds: readonly string[] }): ReactNode {
  const { query, setQuery } = useLocation();
  const filter = query.get('tq') ?? '';
  const sort = SORTS.find((s) => s === query.get('tsort')) ?? DEFAULT_SORT;
  const paused = query.get('tail') === 'off';
  const search = useMemo(() => ({ experimentIds, filter, orderBy: [sort] }), [experimentIds, filter, sort]);
  const pages = useTracePages(search, !paused, sort === DEFAULT_SORT);
  return (
    <div className="traces-tab" data-testid="traces-tab">
      <div className="toolbar">
        <SearchInput
          value={filter}
          wide
          placeholder="Filter traces, e.g. trace.status = 'ERROR' and span.type = 'LLM' and feedback.correct = 'true'"
          label="Filter traces"
          onSubmit={(tq) => setQuery({ tq })}
        />
        <span className={`live ${paused ? 'paused' : 'on'}`} data-testid="tail-state">
          {paused ? 'live tail paused' : '● live tail'}{' '}
          <button type="button" onClick={() => setQuery({ tail: paused ? undefined : 'off' }, true)} data-testid="tail-toggle">
            {paused ? 'Resume' : 'Pause'}
          </button>
        </span>
      </div>
      <FilterHelp onPick={(tq) => setQuery({ tq })} />
      <TraceOverviewStrip experimentIds={experimentIds} version={pages.arrived} />
      {pages.error && <ErrorBox error={pages.error} />}
      <div className="status-line" data-testid="traces-count">
        {plural(pages.traces.length, 'trace')}
        {pages.hasMore ? ' loaded, more on the server' : ''}
        {pages.arrived > 0 ? ` (${pages.arrived} new since opened)` : ''}
        {pages.loading && ' (loading…)'}
      </div>
      <TracesTable
        traces={pages.traces}
        experimentId={experimentIds[0] ?? ''}
        sort={sort}
        onSort={(s) => setQuery({ tsort: s === DEFAULT_SORT ? undefined : s })}
        hasMore={pages.hasMore}
        loadMore={pages.loadMore}
      />
    </div>
  );
}
