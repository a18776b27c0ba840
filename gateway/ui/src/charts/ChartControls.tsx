import type { ReactNode } from 'react';
import type { ChartOptions, XAxis } from './series';

interface Props {
  options: ChartOptions;
  onChange: (options: ChartOptions) => void;
}

export function ChartControls({ options, onChange }: Props): ReactNode {
  return (
    <div className="toolbar chart-controls">
      <label>
        x axis{' '}
        <select
          value={options.xAxis}
          onChange={(e) => onChange({ ...options, xAxis: e.target.value as XAxis })}
          data-testid="x-axis"
        >
          <option value="step">step</option>
          <option value="time">time</option>
          <option value="relative">relative time</option>
        </select>
      </label>
      <label>
        <input
          type="checkbox"
          checked={options.logScale}
          onChange={(e) => onChange({ ...options, logScale: e.target.checked })}
          data-testid="log-scale"
        />{' '}
        log scale
      </label>
      <label>
        smoothing{' '}
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={options.smoothing}
          onChange={(e) => onChange({ ...options, smoothing: Number(e.target.value) })}
          data-testid="smoothing"
        />{' '}
        {options.smoothing.toFixed(2)}
      </label>
    </div>
  );
}
