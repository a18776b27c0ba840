import { useCallback, useMemo, type ReactNode } from 'react';
import { getExperiment } from '../../api/endpoints';
import { ErrorBox } from '../../components/ErrorBox';
import { SearchInput } from '../../components/SearchInput';
import { ViewSelect } from '../../components/ViewSelect';
import { listParam } from '../../routing/route';
import { useLocation } from '../../routing/useLocation';
import { VIEW_TYPE, viewOf } from '../../util/filters';
import { decodeColumns, decodeSort, encodeColumns, encodeSort, orderByOf } from '../../util/searchKeys';
import { useAsync } from '../../util/useAsync';
import { ColumnPicker } from './ColumnPicker';
import { availableKeys, defaultColumns } from './columns';
import { RunActions } from './RunActions';
import { RunsTable } from './RunsTable';
import { useRunPages } from './useRunPages';

const FIRST_PAGE_SIZE = 100;
const PAGE_SIZE = 1000;

const NO_NAMES: ReadonlyMap<string, string> = new Map();

/** Experiment id -> name, empty until the experiments are fetched. */
function useExperimentNames(ids: readonly string[]): ReadonlyMap<string, string> {
  const { data } = useAsync(ids.join(','), async (signal) => {
    const experiments = await Promise.all(ids.map((id) => getExperiment(id, signal)));
    return new Map(experiments.map((e) => [e.experiment_id, e.name]));
  });
  return data ?? NO_NAMES;
}

export function RunsPage({ experimentIds }: { experimentIds: string[] }): ReactNode {
  const { query, setQuery } = useLocation();
  const experimentNames = useExperimentNames(experimentIds);
  const filter = query.get('q') ?? '';
  const view = viewOf(query.get('view'));
  const sort = decodeSort(query.get('sort'));
  const selected = listParam(query, 'sel');
  const selectedKey = selected.join(',');
  const selectedSet = useMemo(() => new Set(selectedKey.split(',').filter(Boolean)), [selectedKey]);
  const pages = useRunPages({
    experimentIds,
    filter,
    orderBy: orderByOf(sort),
    viewType: VIEW_TYPE[view],
    pageSize: PAGE_SIZE,
  }, FIRST_PAGE_SIZE);
  const keys = useMemo(() => availableKeys(pages.runs), [pages.runs]);
  const colsParam = query.get('cols');
  const multiExperiment = experimentIds.length > 1;
  // Stable identities let the memoised table rows skip rendering while scrolling.
  const columns = useMemo(
    () => (colsParam === null ? defaultColumns(keys, multiExperiment) : decodeColumns(colsParam)),
    [colsParam, keys, multiExperiment],
  );
  const setSelected = useCallback((ids: string[]): void => setQuery({ sel: ids.join(',') }, true), [setQuery]);
  const toggle = useCallback(
    (id: string): void => {
      const ids = selectedKey.split(',').filter(Boolean);
      setSelected(ids.includes(id) ? ids.filter((s) => s !== id) : [...ids, id]);
    },
    [selectedKey, setSelected],
  );
  const toggleAll = (): void => {
    const all = pages.runs.every((r) => selectedSet.has(r.info.run_id));
    setSelected(all ? [] : pages.runs.map((r) => r.info.run_id));
  };

  return (
    <section className="runs-page">
      <h1 data-testid="experiment-title">{experimentIds.map((id) => experimentNames.get(id) ?? id).join(', ')}</h1>
      <div className="toolbar">
        <SearchInput
          value={filter}
          wide
          placeholder="metrics.rmse < 1 and params.model = 'tree'"
          label="Filter runs"
          onSubmit={(q) => setQuery({ q })}
        />
        <ViewSelect value={view} onChange={(v) => setQuery({ view: v === 'active' ? undefined : v })} />
        <ColumnPicker columns={columns} keys={keys} onChange={(c) => setQuery({ cols: encodeColumns(c) }, true)} />
      </div>
      <RunActions selected={selected} onDone={pages.reload} onClear={() => setSelected([])} />
      {pages.error && <ErrorBox error={pages.error} />}
      <div className="status-line" data-testid="runs-count">
        {pages.runs.length} runs{pages.hasMore ? ' loaded, more on the server' : ''}
        {pages.loading && ' (loading…)'}
        {pages.hasMore && !pages.loading && (
          <button type="button" className="link" onClick={pages.loadMore}>
            Load more
          </button>
        )}
      </div>
      <RunsTable
        runs={pages.runs}
        columns={columns}
        sort={sort}
        onSort={(s) => setQuery({ sort: encodeSort(s) })}
        selected={selectedSet}
        onToggle={toggle}
        onToggleAll={toggleAll}
        hasMore={pages.hasMore}
        loadMore={pages.loadMore}
        experimentNames={experimentNames}
      />
    </section>
  );
}
