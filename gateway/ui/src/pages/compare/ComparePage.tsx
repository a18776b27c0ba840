import { useMemo, type ReactNode } from 'react';
import { getRun } from '../../api/endpoints';
import type { Run } from '../../api/types';
import { ChartControls } from '../../charts/ChartControls';
import { ChartPanel } from '../../charts/ChartPanel';
import { useChartOptions } from '../../charts/useChartOptions';
import { colorOf } from '../../charts/series';
import { ErrorBox } from '../../components/ErrorBox';
import { hrefOf, listParam, paths } from '../../routing/route';
import { useLocation } from '../../routing/useLocation';
import { formatNumber } from '../../util/format';
import { useAsync } from '../../util/useAsync';
import { plural } from '../../util/plural';
import { runName } from '../runs/columns';
import { diffRows } from './diff';
import { DiffTable } from './DiffTable';
import { ParallelCoordinates } from './ParallelCoordinates';
import { axisOf } from './parallel';

const MAX_PARALLEL_PARAMS = 6;

function MetricSelect({ keys, value, onChange, label, testId }: {
  keys: readonly string[];
  value: string;
  onChange: (key: string) => void;
  label: string;
  testId: string;
}): ReactNode {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {keys.map((key) => (
          <option key={key} value={key}>
            {key}
          </option>
        ))}
      </select>
    </label>
  );
}

function CompareBody({ runs }: { runs: Run[] }): ReactNode {
  const { query, setQuery } = useLocation();
  const [options, setOptions] = useChartOptions();
  const labels = runs.map(runName);
  const params = useMemo(() => diffRows(runs.map((r) => r.data.params ?? [])), [runs]);
  const metrics = useMemo(
    () => diffRows(runs.map((r) => (r.data.metrics ?? []).map((m) => ({ key: m.key, value: formatNumber(m.value) })))),
    [runs],
  );
  const metricKeys = metrics.map((m) => m.key);
  const chartMetric = query.get('metric') ?? metricKeys[0] ?? '';
  const pcMetric = query.get('pc') ?? chartMetric;
  const pcParams = listParam(query, 'pcp');
  const axisParams = pcParams.length ? pcParams : params.filter((p) => p.differs).slice(0, MAX_PARALLEL_PARAMS).map((p) => p.key);
  const axes = [
    ...axisParams.map((key) => axisOf(key, params.find((p) => p.key === key)?.values ?? [])),
    ...(pcMetric ? [axisOf(pcMetric, metrics.find((m) => m.key === pcMetric)?.values ?? [])] : []),
  ];
  const onlyDiff = query.get('diff') === '1';
  const runIds = runs.map((r) => r.info.run_id);
  return (
    <>
      <ul className="legend">
        {runs.map((run, i) => (
          <li key={run.info.run_id}>
            <span className="swatch" style={{ background: colorOf(i) }} />
            <a href={hrefOf(paths.run(run.info.experiment_id, run.info.run_id))}>{labels[i]}</a>
          </li>
        ))}
      </ul>
      <section>
        <h2>Parameters</h2>
        <label className="check">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setQuery({ diff: e.target.checked ? '1' : undefined }, true)} /> only differences
        </label>
        <DiffTable rows={params} runLabels={labels} onlyDifferences={onlyDiff} testId="param-diff" />
      </section>
      <section>
        <h2>Metrics</h2>
        <DiffTable rows={metrics} runLabels={labels} onlyDifferences={false} testId="metric-table" />
      </section>
      <section>
        <h2>Parallel coordinates</h2>
        <div className="toolbar">
          <MetricSelect keys={metricKeys} value={pcMetric} onChange={(pc) => setQuery({ pc }, true)} label="metric" testId="pc-metric" />
          <details>
            <summary>parameters ({axisParams.length})</summary>
            {params.map((p) => (
              <label key={p.key} className="check">
                <input
                  type="checkbox"
                  checked={axisParams.includes(p.key)}
                  onChange={() => {
                    const next = axisParams.includes(p.key) ? axisParams.filter((k) => k !== p.key) : [...axisParams, p.key];
                    setQuery({ pcp: next.join(',') }, true);
                  }}
                />{' '}
                {p.key}
              </label>
            ))}
          </details>
        </div>
        <ParallelCoordinates axes={axes} runLabels={labels} />
      </section>
      <section>
        <h2>Metric chart</h2>
        <div className="toolbar">
          <MetricSelect keys={metricKeys} value={chartMetric} onChange={(metric) => setQuery({ metric }, true)} label="metric" testId="chart-metric" />
        </div>
        <ChartControls options={options} onChange={setOptions} />
        {chartMetric && (
          <ChartPanel
            metricKey={chartMetric}
            runIds={runIds}
            labels={labels}
            options={options}
            live={runs.some((r) => r.info.status === 'RUNNING')}
            height={360}
          />
        )}
      </section>
    </>
  );
}

export function ComparePage({ runIds }: { runIds: string[] }): ReactNode {
  const { data, error } = useAsync(runIds.join(','), (signal) => Promise.all(runIds.map((id) => getRun(id, signal))));
  return (
    <section className="compare-page">
      <h1>Compare {plural(runIds.length, 'run')}</h1>
      {error && <ErrorBox error={error} />}
      {!data && !error && <p>Loading runs…</p>}
      {data && <CompareBody runs={data} />}
    </section>
  );
}
