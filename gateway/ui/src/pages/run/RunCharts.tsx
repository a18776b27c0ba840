import type { ReactNode } from 'react';
import type { Run } from '../../api/types';
import { ChartControls } from '../../charts/ChartControls';
import { ChartPanel } from '../../charts/ChartPanel';
import { useChartOptions } from '../../charts/useChartOptions';
import { WhenVisible } from '../../components/WhenVisible';
import { runName } from '../runs/columns';

const CHART_HEIGHT = 300;

/**
 * One chart per metric of the run, fetched when scrolled into view; they refresh themselves
 * while the run is RUNNING.
 */
export function RunCharts({ run }: { run: Run }): ReactNode {
  const [options, setOptions] = useChartOptions();
  const keys = [...new Set((run.data.metrics ?? []).map((m) => m.key))].sort();
  const runIds = [run.info.run_id];
  const labels = [runName(run)];
  if (keys.length === 0) return <p className="muted">This run has no metrics.</p>;
  return (
    <div>
      <ChartControls options={options} onChange={setOptions} />
      <div className="chart-grid">
        {keys.map((key) => (
          <WhenVisible key={key} height={CHART_HEIGHT}>
            <ChartPanel
              metricKey={key}
              runIds={runIds}
              labels={labels}
              options={options}
              live={run.info.status === 'RUNNING'}
              height={CHART_HEIGHT - 80}
            />
          </WhenVisible>
        ))}
      </div>
    </div>
  );
}
