import type { ReactNode } from 'react';
import { formatNumber } from '../util/format';

export interface Bar {
  label: string;
  value: number;
  color: string;
  /** Whisker half-length (a group's std), drawn when present. */
  spread?: number;
  detail?: string;
}

const ROW = 26;
const LABEL_WIDTH = 170;
const VALUE_WIDTH = 90;

/** Horizontal bars for a metric with one value per run (or per group), zero-based. */
export function BarChart({ title, bars, width = 460 }: { title: string; bars: readonly Bar[]; width?: number }): ReactNode {
  const span = Math.max(...bars.map((b) => Math.abs(b.value) + (b.spread ?? 0)), 0) || 1;
  const negative = bars.some((b) => b.value < 0);
  const plot = width - LABEL_WIDTH - VALUE_WIDTH;
  const zero = LABEL_WIDTH + (negative ? plot / 2 : 0);
  const scale = (negative ? plot / 2 : plot) / span;
  const height = bars.length * ROW + 30;
  return (
    <div className="metric-chart bar-chart" data-testid="bar-chart" data-title={title}>
      <div className="chart-title">{title}</div>
      <svg width="100%" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title} per run`}>
        <line x1={zero} x2={zero} y1={4} y2={height - 24} stroke="#8b93a1" />
        {bars.map((bar, i) => {
          const y = 6 + i * ROW;
          const x = bar.value >= 0 ? zero : zero + bar.value * scale;
          return (
            <g key={`${bar.label}-${i}`} data-testid="bar" data-label={bar.label} data-value={bar.value}>
              <title>{`${bar.label}: ${formatNumber(bar.value)}${bar.detail ? ` (${bar.detail})` : ''}`}</title>
              <text x={LABEL_WIDTH - 6} y={y + 15} textAnchor="end" className="tick">
                {bar.label.length > 26 ? `${bar.label.slice(0, 25)}…` : bar.label}
              </text>
              <rect x={x} y={y} width={Math.max(Math.abs(bar.value) * scale, 1)} height={ROW - 8} fill={bar.color} />
              {bar.spread !== undefined && bar.spread > 0 && (
                <line
                  x1={zero + (bar.value - bar.spread) * scale}
                  x2={zero + (bar.value + bar.spread) * scale}
                  y1={y + (ROW - 8) / 2}
                  y2={y + (ROW - 8) / 2}
                  stroke="#1d2430"
                  strokeWidth={1.5}
                />
              )}
              <text x={width - VALUE_WIDTH + 6} y={y + 15} className="tick">
                {formatNumber(bar.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
