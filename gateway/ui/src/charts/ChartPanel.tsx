import { useMemo, type ReactNode } from 'react';
import { ErrorBox } from '../components/ErrorBox';
import { MetricChart } from './MetricChart';
import { alignSeries, type ChartOptions } from './series';
import { pointsForWidth, useHistories } from './useHistories';
import { useWidth } from './useWidth';

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
export function ChartPanel(props: Props): ReactNode {
  const [box, width] = useWidth<HTMLDivElement>();
  return (
    <div ref={box} className="metric-card">
      <PanelBody {...props} maxResults={width === undefined ? undefined : pointsForWidth(width - AXIS_WIDTH)} />
    </div>
  );
}

/** Room taken by uPlot's y axis: the plot itself is this much narrower than the panel. */
export const AXIS_WIDTH = 60;

function PanelBody({ metricKey, runIds, labels, options, live, height, maxResults }: Props & { maxResults: number | undefined }): ReactNode {
  const { data, error } = useHistories(runIds, metricKey, live ? runIds : NONE, maxResults);
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
