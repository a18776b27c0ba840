import { useMemo, type ReactNode } from 'react';
import { BarChart } from '../../../charts/BarChart';
import { AXIS_WIDTH } from '../../../charts/ChartPanel';
import { MetricChart } from '../../../charts/MetricChart';
import type { ChartOptions } from '../../../charts/series';
import { pointsForWidth, useHistories } from '../../../charts/useHistories';
import { useWidth } from '../../../charts/useWidth';
import { ErrorBox } from '../../../components/ErrorBox';
import type { BandKind } from './layout';
import { groupBars, groupLines, isSingleValue, runBars, runLines, type ChartGroup, type ChartRun } from './lines';

interface Props {
  metricKey: string;
  runs: readonly ChartRun[];
  groups: readonly ChartGroup[] | undefined;
  options: ChartOptions;
  band: BandKind;
  /** RUNNING runs, polled while not paused. */
  liveRunIds: readonly string[];
  height: number;
}

/**
 * One metric for the visible runs: lines (or group bands) for histories, bars for single values.
 * The histories are fetched once the card's width is known, about one point per pixel of plot.
 */
export function MetricCard(props: Props): ReactNode {
  const [box, width] = useWidth<HTMLDivElement>();
  return (
    <div ref={box} className="metric-card">
      <MetricBody {...props} maxResults={width === undefined ? undefined : pointsForWidth(width - AXIS_WIDTH)} />
    </div>
  );
}

function MetricBody({ metricKey, runs, groups, options, band, liveRunIds, height, maxResults }: Props & { maxResults: number | undefined }): ReactNode {
  const runIds = useMemo(() => runs.map((r) => r.runId), [runs]);
  const { data, error } = useHistories(runIds, metricKey, liveRunIds, maxResults);
  const single = data ? isSingleValue(data) : false;
  const plot = useMemo(() => {
    if (!data || single) return undefined;
    return groups ? groupLines(data, groups, options, band) : runLines(data, runs, options);
  }, [data, single, groups, options, band, runs]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <div className="chart-placeholder" style={{ height }}>Loading {metricKey}…</div>;
  if (single) return <BarChart title={metricKey} bars={groups ? groupBars(data, groups) : runBars(data, runs)} />;
  if (!plot || plot.data[0].length === 0) return <div className="chart-placeholder">No points for {metricKey}.</div>;
  return (
    <MetricChart
      title={metricKey}
      data={plot.data}
      labels={plot.styles.map((s) => s.label)}
      styles={plot.styles}
      bands={plot.bands}
      xAxis={options.xAxis}
      logScale={options.logScale}
      height={height}
      syncKey="runstash-chart-view"
    />
  );
}
