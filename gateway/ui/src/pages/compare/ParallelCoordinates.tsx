import type { ReactNode } from 'react';
import { heatColor, type Axis } from './parallel';

interface Props {
  axes: readonly Axis[];
  runLabels: readonly string[];
}

const HEIGHT = 320;
const PAD_TOP = 40;
const PAD_BOTTOM = 30;
const PAD_X = 70;
const AXIS_GAP = 170;

/** An SVG parallel-coordinates plot; lines are coloured by the last (metric) axis. */
export function ParallelCoordinates({ axes, runLabels }: Props): ReactNode {
  if (axes.length < 2) return <p className="muted">Pick at least one parameter and a metric.</p>;
  const width = PAD_X * 2 + AXIS_GAP * (axes.length - 1);
  const plotHeight = HEIGHT - PAD_TOP - PAD_BOTTOM;
  const x = (i: number): number => PAD_X + i * AXIS_GAP;
  const y = (position: number): number => PAD_TOP + (1 - position) * plotHeight;
  const metric = axes[axes.length - 1];
  return (
    <svg width={width} height={HEIGHT} className="parallel" data-testid="parallel-coordinates" role="img" aria-label="Parallel coordinates">
      {runLabels.map((label, run) => {
        const points = axes.map((axis, i) => {
          const position = axis.positions[run];
          return position === undefined ? undefined : `${x(i)},${y(position)}`;
        });
        if (points.some((p) => p === undefined)) return null;
        return (
          <polyline key={run} points={points.join(' ')} fill="none" stroke={heatColor(metric?.positions[run])} strokeWidth={2} opacity={0.8}>
            <title>{label}</title>
          </polyline>
        );
      })}
      {axes.map((axis, i) => (
        <g key={axis.title}>
          <line x1={x(i)} x2={x(i)} y1={PAD_TOP} y2={HEIGHT - PAD_BOTTOM} stroke="#333" />
          <text x={x(i)} y={PAD_TOP - 18} textAnchor="middle" className="axis-title">
            {axis.title.length > 24 ? `${axis.title.slice(0, 23)}…` : axis.title}
          </text>
          {axis.ticks.map((tick) => (
            <text key={tick.label} x={x(i) + 5} y={y(tick.at) + 4} className="tick">
              {tick.label.length > 18 ? `${tick.label.slice(0, 17)}…` : tick.label}
            </text>
          ))}
        </g>
      ))}
    </svg>
  );
}
