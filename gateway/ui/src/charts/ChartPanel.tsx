import { useMemo, type ReactNode } from 'react';
import { ErrorBox } from '../components/ErrorBox';
import { MetricChart } from './MetricChart';
import { alignSeries, type ChartOptions } from './series';
import { useHistories } from './useHistories';

const NONE: readonly string[] = [];

interface Props {
  metricKey: string;
  runIds: readonly string[];
  /** Legend label per run, in the order of runIds. */
  labels: readonly string[];
  options: ChartOptions;
  /** True while any run is RUNNING: the chart then refreshes itself. */
  live: boolean;
  height?: number;
}

/** Fetches one metric for some runs and draws it. */
export function ChartPanel({ metricKey, runIds, labels, options, live, height }: Props): ReactNode {
  const { data, error } = useHistories(runIds, metricKey, live ? runIds : NONE);
  const aligned = useMemo(() => (data ? alignSeries(data, options) : undefined), [data, options]);
  if (error) return <ErrorBox error={error} />;
  if (!aligned) return <div className="chart-placeholder">Loading {metricKey}…</div>;
  if (aligned[0].length === 0) return <div className="chart-placeholder">No points for {metricKey}.</div>;
  return (
    <MetricChart
      title={metricKey}
      data={aligned}
      labels={labels}
      xAxis={options.xAxis}
      logScale={options.logScale}
      height={height}
    />
  );
}
