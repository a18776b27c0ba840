import { useEffect, useMemo, useRef, useState, type PointerEvent, type ReactNode } from 'react';
import { axisOf, heatColor } from '../../compare/parallel';
import { passingRuns, varyingParams, type Brush } from './brush';
import type { ScatterRun } from './ScatterCard';

interface Props {
  metric: string;
  runs: readonly ScatterRun[];
  paramKeys: readonly string[];
  /** The runs inside every brush (undefined: no brush), to filter the table. */
  onBrush: (runIds: string[] | undefined) => void;
}

const HEIGHT = 300;
const TOP = 36;
const BOTTOM = 24;
const PAD_X = 50;
const GAP = 130;
const MAX_PARAMS = 6;

/**
 * Parallel coordinates over the params that vary between the visible runs plus one metric;
 * dragging along an axis brushes a range, and only runs inside every range stay in the table.
 */
export function ParallelCard({ metric, runs, paramKeys, onBrush }: Props): ReactNode {
  const axes = useMemo(() => {
    const valuesOf = (field: string): (string | undefined)[] => runs.map((r) => r.values.get(field));
    const params = varyingParams(paramKeys, (k) => valuesOf(`params.${k}`), MAX_PARAMS);
    return [...params.map((k) => axisOf(k, valuesOf(`params.${k}`))), axisOf(metric, valuesOf(`metrics.${metric}`))];
  }, [runs, paramKeys, metric]);
  const [brushes, setBrushes] = useState<ReadonlyMap<string, Brush>>(new Map());
  const drag = useRef<{ axis: string; start: number } | null>(null);
  const plotH = HEIGHT - TOP - BOTTOM;
  const width = PAD_X * 2 + GAP * Math.max(axes.length - 1, 1);
  const x = (i: number): number => PAD_X + i * GAP;
  const y = (p: number): number => TOP + (1 - p) * plotH;
  const positionAt = (event: PointerEvent<SVGRectElement>): number => {
    const svg = event.currentTarget.ownerSVGElement;
    const box = svg?.getBoundingClientRect();
    const scale = box && box.height ? HEIGHT / box.height : 1;
    const local = (event.clientY - (box?.top ?? 0)) * scale;
    return Math.min(Math.max(1 - (local - TOP) / plotH, 0), 1);
  };
  const passing = useMemo(() => new Set(passingRuns(axes, brushes, runs.length)), [axes, brushes, runs.length]);
  const brushed = brushes.size > 0;
  useEffect(() => {
    onBrush(brushed ? runs.filter((_, i) => passing.has(i)).map((r) => r.runId) : undefined);
  }, [brushed, passing, runs, onBrush]);
  useEffect(() => () => onBrush(undefined), [onBrush]);

  if (axes.length < 2) return <p className="muted">No parameter varies between the visible runs.</p>;
  const metricAxis = axes[axes.length - 1];
  const setBrush = (axis: string, brush: Brush | undefined): void =>
    setBrushes((current) => {
      const next = new Map(current);
      if (brush) next.set(axis, brush);
      else next.delete(axis);
      return next;
    });
  return (
    <div className="metric-chart parallel-card" data-testid="parallel-chart" data-title={metric}>
      <div className="chart-title">
        parallel coordinates: {metric}{' '}
        {brushed && (
          <button type="button" className="link" onClick={() => setBrushes(new Map())} data-testid="clear-brush">
            clear brushes ({passing.size} of {runs.length})
          </button>
        )}
      </div>
      <svg width="100%" viewBox={`0 0 ${width} ${HEIGHT}`} className="parallel" role="img" aria-label="Parallel coordinates">
        {runs.map((run, r) => {
          const points = axes.map((axis, i) => {
            const p = axis.positions[r];
            return p === undefined ? undefined : `${x(i)},${y(p)}`;
          });
          if (points.some((p) => p === undefined)) return null;
          const inside = !brushed || passing.has(r);
          return (
            <polyline key={run.runId} points={points.join(' ')} fill="none" stroke={inside ? heatColor(metricAxis?.positions[r]) : '#d5d9e0'} strokeWidth={inside ? 2 : 1} opacity={inside ? 0.85 : 0.5} data-testid="pc-line" data-inside={inside}>
              <title>{run.label}</title>
            </polyline>
          );
        })}
        {axes.map((axis, i) => {
          const brush = brushes.get(axis.title);
          return (
            <g key={axis.title} data-testid="pc-axis" data-axis={axis.title}>
              <line x1={x(i)} x2={x(i)} y1={TOP} y2={HEIGHT - BOTTOM} stroke="#333" />
              <text x={x(i)} y={TOP - 16} textAnchor="middle" className="axis-title">{axis.title.length > 20 ? `${axis.title.slice(0, 19)}…` : axis.title}</text>
              {axis.ticks.map((tick) => (
                <text key={tick.label} x={x(i) + 5} y={y(tick.at) + 4} className="tick">{tick.label.length > 14 ? `${tick.label.slice(0, 13)}…` : tick.label}</text>
              ))}
              {brush && <rect x={x(i) - 7} width={14} y={y(brush.high)} height={Math.max(y(brush.low) - y(brush.high), 2)} fill="rgba(31,95,191,0.25)" stroke="#1f5fbf" />}
              <rect
                x={x(i) - 12}
                width={24}
                y={TOP - 4}
                height={plotH + 8}
                fill="transparent"
                style={{ cursor: 'ns-resize' }}
                data-testid="pc-brush"
                onPointerDown={(e) => {
                  e.currentTarget.setPointerCapture(e.pointerId);
                  drag.current = { axis: axis.title, start: positionAt(e) };
                }}
                onPointerMove={(e) => {
                  const d = drag.current;
                  if (!d || d.axis !== axis.title) return;
                  const p = positionAt(e);
                  setBrush(axis.title, { low: Math.min(d.start, p), high: Math.max(d.start, p) });
                }}
                onPointerUp={(e) => {
                  const d = drag.current;
                  drag.current = null;
                  if (d && Math.abs(positionAt(e) - d.start) < 0.01) setBrush(axis.title, undefined);
                }}
              />
            </g>
          );
        })}
      </svg>
    </div>
  );
}
