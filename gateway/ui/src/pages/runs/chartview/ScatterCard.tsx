import type { ReactNode } from 'react';
import { axisOf } from '../../compare/parallel';

/** A visible run with its values by field (`params.lr`, `metrics.acc`). */
export interface ScatterRun {
  runId: string;
  label: string;
  color: string;
  values: ReadonlyMap<string, string>;
}

const WIDTH = 460;
const HEIGHT = 300;
const PAD = { left: 60, right: 16, top: 28, bottom: 40 };

/** Any param or metric against another, one dot per run in its color. */
export function ScatterCard({ x, y, runs }: { x: string; y: string; runs: readonly ScatterRun[] }): ReactNode {
  const xAxis = axisOf(x, runs.map((r) => r.values.get(x)));
  const yAxis = axisOf(y, runs.map((r) => r.values.get(y)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const px = (p: number): number => PAD.left + p * plotW;
  const py = (p: number): number => PAD.top + (1 - p) * plotH;
  return (
    <div className="metric-chart scatter" data-testid="scatter-chart" data-title={`${y} vs ${x}`}>
      <div className="chart-title">{`${y} vs ${x}`}</div>
      <svg width="100%" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${y} against ${x}`}>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={py(0)} y2={py(0)} stroke="#8b93a1" />
        <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={py(0)} stroke="#8b93a1" />
        {xAxis.ticks.map((t) => (
          <text key={`x${t.label}`} x={px(t.at)} y={HEIGHT - PAD.bottom + 16} textAnchor="middle" className="tick">{t.label}</text>
        ))}
        {yAxis.ticks.map((t) => (
          <text key={`y${t.label}`} x={PAD.left - 6} y={py(t.at) + 4} textAnchor="end" className="tick">{t.label}</text>
        ))}
        <text x={PAD.left + plotW / 2} y={HEIGHT - 6} textAnchor="middle" className="axis-title">{x}</text>
        {runs.map((run, i) => {
          const a = xAxis.positions[i];
          const b = yAxis.positions[i];
          if (a === undefined || b === undefined) return null;
          return (
            <circle key={run.runId} cx={px(a)} cy={py(b)} r={5} fill={run.color} opacity={0.85} data-testid="scatter-point" data-run-id={run.runId}>
              <title>{`${run.label}: ${x}=${run.values.get(x) ?? ''}, ${y}=${run.values.get(y) ?? ''}`}</title>
            </circle>
          );
        })}
      </svg>
    </div>
  );
}
