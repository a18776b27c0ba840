import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { getExperiment } from '../../api/endpoints';
import type { Experiment, Run } from '../../api/types';
import { colorOf } from '../../charts/series';
import { ErrorBox } from '../../components/ErrorBox';
import { SearchInput } from '../../components/SearchInput';
import { Tabs } from '../../components/Tabs';
import { ViewSelect } from '../../components/ViewSelect';
import { listParam } from '../../routing/route';
import { useLocation } from '../../routing/useLocation';
import { VIEW_TYPE, viewOf } from '../../util/filters';
import { plural } from '../../util/plural';
import { decodeColumns, decodeSort, encodeColumns, encodeSort, orderByOf } from '../../util/searchKeys';
import { useAsync } from '../../util/useAsync';
import { ChartView } from './chartview/ChartView';
import type { ScatterRun } from './chartview/ScatterCard';
import { ColumnPicker } from './ColumnPicker';
import { availableKeys, defaultColumns, runName } from './columns';
import { ExperimentAbout } from './ExperimentAbout';
import { ExperimentDatasets } from './ExperimentDatasets';
import { ExperimentModels } from './ExperimentModels';
import { SessionsTab } from '../traces/SessionsTab';
import { TracesTab } from '../traces/TracesTab';
import { GroupPicker } from './GroupPicker';
import { ImageGallery } from './ImageGallery';
import { decodeGroupKeys, encodeGroupKeys, groupableKeys, groupRuns, tableItems } from './grouping';
import { useCan } from '../signin/access';
import { RunActions } from './RunActions';
import { RunsTable } from './RunsTable';
import { useLiveRuns } from './useLiveRuns';
import { useRunPages } from './useRunPages';

const FIRST_PAGE_SIZE = 100;
const PAGE_SIZE = 1000;
/** The server's bulk-interval route takes 100 runs; more would need several calls per chart. */
export const MAX_CHART_RUNS = 100;

type Tab = 'table' | 'charts' | 'images' | 'models' | 'datasets' | 'traces' | 'sessions';
const TABS: readonly { id: Tab; title: string }[] = [
  { id: 'table', title: 'Runs' },
  { id: 'charts', title: 'Charts' },
  { id: 'images', title: 'Images' },
  { id: 'models', title: 'Logged models' },
  { id: 'datasets', title: 'Datasets' },
  { id: 'traces', title: 'Traces' },
  { id: 'sessions', title: 'Sessions' },
];
const NO_EXPERIMENTS: Experiment[] = [];

function useExperiments(ids: readonly string[]): Experiment[] {
  const { data } = useAsync(ids.join(','), (signal) => Promise.all(ids.map((id) => getExperiment(id, signal))));
  return data ?? NO_EXPERIMENTS;
}

function scatterValues(run: Run, label: string, color: string): ScatterRun {
  const values = new Map<string, string>();
  for (const p of run.data.params ?? []) values.set(`params.${p.key}`, p.value);
  for (const m of run.data.metrics ?? []) values.set(`metrics.${m.key}`, String(m.value));
  return { runId: run.info.run_id, label, color, values };
}

export function RunsPage({ experimentIds }: { experimentIds: string[] }): ReactNode {
  const { query, setQuery } = useLocation();
  const experiments = useExperiments(experimentIds);
  const canManage = useCan('experiment', experimentIds, 'MANAGE');
  const experimentNames = useMemo(() => new Map(experiments.map((e) => [e.experiment_id, e.name])), [experiments]);
  const tab = TABS.find((t) => t.id === query.get('tab'))?.id ?? 'table';
  const filter = query.get('q') ?? '';
  const view = viewOf(query.get('view'));
  const sort = decodeSort(query.get('sort'));
  const selected = listParam(query, 'sel');
  const selectedKey = selected.join(',');
  const selectedSet = useMemo(() => new Set(selectedKey.split(',').filter(Boolean)), [selectedKey]);
  const hiddenKey = query.get('hide') ?? '';
  const hidden = useMemo(() => new Set(hiddenKey.split(',').filter(Boolean)), [hiddenKey]);
  const groupParam = query.get('group');
  const groupKeys = useMemo(() => decodeGroupKeys(groupParam), [groupParam]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [brushed, setBrushed] = useState<ReadonlySet<string> | undefined>(undefined);
  const paused = query.get('live') === 'off';
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
  // One color per run, by its place in the loaded list: the same in the table and every chart.
  const colorIndex = useMemo(() => new Map(pages.runs.map((r, i) => [r.info.run_id, i])), [pages.runs]);
  const colorOfRun = useCallback((id: string) => colorOf(colorIndex.get(id) ?? 0), [colorIndex]);
  const shownRuns = useMemo(() => (brushed ? pages.runs.filter((r) => brushed.has(r.info.run_id)) : pages.runs), [pages.runs, brushed]);
  const groups = useMemo(() => {
    if (groupKeys.length === 0) return undefined;
    performance.mark('runstash:group-start');
    const result = groupRuns(shownRuns, groupKeys);
    performance.measure('runstash:group', 'runstash:group-start');
    return result;
  }, [shownRuns, groupKeys]);
  const items = useMemo(() => tableItems(shownRuns, groups, collapsed, colorOfRun), [shownRuns, groups, collapsed, colorOfRun]);
  const chartRuns = useMemo(() => pages.runs.filter((r) => !hidden.has(r.info.run_id)).slice(0, MAX_CHART_RUNS), [pages.runs, hidden]);
  const chartInput = useMemo(() => {
    const runs = chartRuns.map((r) => ({ runId: r.info.run_id, label: runName(r), color: colorOfRun(r.info.run_id) }));
    const values = chartRuns.map((r) => scatterValues(r, runName(r), colorOfRun(r.info.run_id)));
    const chartGroups = groupKeys.length
      ? groupRuns(chartRuns, groupKeys).map((g) => ({ label: g.label, color: g.color, runIds: g.runs.map((r) => r.info.run_id) }))
      : undefined;
    return { runs, values, groups: chartGroups };
  }, [chartRuns, colorOfRun, groupKeys]);
  const galleryRuns = useMemo(() => chartRuns.map((run) => ({ run, color: colorOfRun(run.info.run_id) })), [chartRuns, colorOfRun]);
  const runningIds = useMemo(() => pages.runs.filter((r) => r.info.status === 'RUNNING').map((r) => r.info.run_id), [pages.runs]);
  useLiveRuns(experimentIds, runningIds, paused, pages.patch);
  const liveChartIds = useMemo(() => (paused ? [] : chartRuns.filter((r) => r.info.status === 'RUNNING').map((r) => r.info.run_id)), [chartRuns, paused]);

  const setSelected = useCallback((ids: string[]): void => setQuery({ sel: ids.join(',') }, true), [setQuery]);
  const toggle = useCallback(
    (id: string): void => {
      const ids = selectedKey.split(',').filter(Boolean);
      setSelected(ids.includes(id) ? ids.filter((s) => s !== id) : [...ids, id]);
    },
    [selectedKey, setSelected],
  );
  const toggleHidden = useCallback(
    (id: string): void => {
      const ids = hiddenKey.split(',').filter(Boolean);
      setQuery({ hide: (ids.includes(id) ? ids.filter((s) => s !== id) : [...ids, id]).join(',') }, true);
    },
    [hiddenKey, setQuery],
  );
  const toggleGroup = useCallback((id: string) => {
    setCollapsed((c) => {
      const next = new Set(c);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, [setCollapsed]);
  const onBrush = useCallback((ids: string[] | undefined) => setBrushed(ids ? new Set(ids) : undefined), [setBrushed]);
  const toggleAll = (): void => {
    const all = shownRuns.every((r) => selectedSet.has(r.info.run_id));
    setSelected(all ? [] : shownRuns.map((r) => r.info.run_id));
  };

  const table = (
    <RunsTable
      runs={shownRuns}
      items={items}
      hidden={hidden}
      onToggleHidden={toggleHidden}
      onToggleGroup={toggleGroup}
      columns={tab === 'charts' ? [] : columns}
      sort={sort}
      onSort={(s) => setQuery({ sort: encodeSort(s) })}
      selected={selectedSet}
      onToggle={toggle}
      onToggleAll={toggleAll}
      hasMore={pages.hasMore}
      loadMore={pages.loadMore}
      experimentNames={experimentNames}
    />
  );
  return (
    <section className="runs-page">
      <h1 data-testid="experiment-title">{experimentIds.map((id) => experimentNames.get(id) ?? id).join(', ')}</h1>
      {experiments.length === 1 && experiments[0] && <ExperimentAbout experiment={experiments[0]} />}
      <Tabs tabs={TABS} current={tab} onSelect={(t) => setQuery({ tab: t === 'table' ? undefined : t }, true)} />
      {(tab === 'table' || tab === 'charts') && (
        <>
          <div className="toolbar">
            <SearchInput
              value={filter}
              wide
              placeholder="Filter runs, e.g. metrics.rmse < 1 and params.model = 'tree'"
              label="Filter runs"
              onSubmit={(q) => setQuery({ q })}
            />
            <ViewSelect value={view} onChange={(v) => setQuery({ view: v === 'active' ? undefined : v })} />
            <GroupPicker keys={groupableKeys(pages.runs)} value={groupKeys} onChange={(k) => setQuery({ group: encodeGroupKeys(k) }, true)} />
            {tab === 'table' && <ColumnPicker columns={columns} keys={keys} onChange={(c) => setQuery({ cols: encodeColumns(c) }, true)} />}
            {runningIds.length > 0 && (
              <span className={`live ${paused ? 'paused' : 'on'}`} data-testid="live-state">
                {paused ? 'live updates paused' : `● live: ${plural(runningIds.length, 'run')} running`}{' '}
                <button type="button" onClick={() => setQuery({ live: paused ? undefined : 'off' }, true)} data-testid="live-toggle">
                  {paused ? 'Resume' : 'Pause'}
                </button>
              </span>
            )}
          </div>
          <RunActions selected={selected} onDone={pages.reload} onClear={() => setSelected([])} canManage={canManage} />
          {pages.error && <ErrorBox error={pages.error} />}
          <div className="status-line" data-testid="runs-count">
            {plural(pages.runs.length, 'run')}
            {pages.hasMore ? ' loaded, more on the server' : ''}
            {groups ? ` in ${plural(groups.length, 'group')}` : ''}
            {brushed ? `, ${shownRuns.length} inside the brushed ranges` : ''}
            {pages.loading && ' (loading…)'}
            {pages.hasMore && !pages.loading && (
              <button type="button" className="link" onClick={pages.loadMore}>
                Load more
              </button>
            )}
          </div>
        </>
      )}
      {tab === 'table' && table}
      {tab === 'charts' && (
        <div className="charts-layout">
          <div className="charts-runs">{table}</div>
          <ChartView
            runs={chartInput.runs}
            values={chartInput.values}
            groups={chartInput.groups}
            metricKeys={keys.metrics}
            paramKeys={keys.params}
            liveRunIds={liveChartIds}
            onBrush={onBrush}
          />
        </div>
      )}
      {tab === 'images' && <ImageGallery runs={galleryRuns} />}
      {tab === 'models' && <ExperimentModels experimentIds={experimentIds} />}
      {tab === 'datasets' && <ExperimentDatasets runs={pages.runs} />}
      {tab === 'traces' && <TracesTab experimentIds={experimentIds} />}
      {tab === 'sessions' && <SessionsTab experimentIds={experimentIds} />}
    </section>
  );
}
