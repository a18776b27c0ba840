import { useEffect, useLayoutEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber } from '../util/format';
import { nearestPresent, presentIndices, throttledMove } from './hover';
import { nearestTipHooks } from './nearestTip';
import { colorOf, type Aligned, type XAxis } from './series';

/** How one y column is drawn; a band edge is a thin, faint line whose area is filled. */
export interface SeriesStyle {
  label: string;
  color: string;
  width?: number;
  dash?: number[];
}

interface Props {
  title: string;
  data: Aligned;
  labels: readonly string[];
  xAxis: XAxis;
  logScale: boolean;
  height?: number;
  /** Per-series styles; default: run palette by index. */
  styles?: readonly SeriesStyle[];
  /** Pairs of 1-based series indices [upper, lower] whose area is filled with `fill`. */
  bands?: readonly { series: [number, number]; fill: string }[];
  /** Charts with the same key share their hover position. */
  syncKey?: string;
}

const X_LABEL: Record<XAxis, string> = { step: 'step', time: 'time', relative: 'seconds since start' };

function formatValue(_: uPlot, value: number | null): string {
  return value === null || value === undefined ? '—' : formatNumber(value);
}

/** Above this many series the per-series hover markers (one DOM node each) are left out. */
const MARKED_SERIES = 20;
/** Above this many series the legend gives way to a tip naming the series nearest the pointer. */
const LEGEND_SERIES = 30;

function optionsOf(props: Props, width: number, onDrawn: () => void, present: { current: Int32Array[] }): uPlot.Options {
  const styles: readonly SeriesStyle[] = props.styles ?? props.labels.map((label, i) => ({ label, color: colorOf(i) }));
  const legend = styles.length <= LEGEND_SERIES;
  return {
    width,
    height: props.height ?? 220,
    title: props.title,
    scales: { x: { time: props.xAxis === 'time' }, y: { distr: props.logScale ? 3 : 1 } },
    series: [
      { label: X_LABEL[props.xAxis] },
      ...styles.map((style) => ({
        label: style.label,
        stroke: style.color,
        width: style.width ?? 1.5,
        dash: style.dash,
        spanGaps: true,
        // Band edges are drawn as the band's outline only, without point markers.
        ...(style.width !== undefined && style.width < 1 ? { points: { show: false } } : {}),
        value: formatValue,
        // uPlot's default shows points only where they are sparse (e.g. a single value).
      })),
    ],
    bands: props.bands?.map((b) => ({ series: b.series, fill: b.fill })),
    legend: { show: legend },
    cursor: {
      drag: { x: true, y: false },
      bind: { mousemove: throttledMove },
      // uPlot's own lookup scans outwards over gaps; this one is a binary search per series.
      dataIdx: (_u, seriesIdx, closestIdx) => (seriesIdx === 0 ? closestIdx : nearestPresent(present.current[seriesIdx] ?? new Int32Array(0), closestIdx)),
      ...(styles.length > MARKED_SERIES ? { points: { show: false } } : {}),
      ...(props.syncKey ? { sync: { key: props.syncKey, setSeries: false } } : {}),
    },
    hooks: legend ? { draw: [onDrawn] } : { ...nearestTipHooks(), draw: [onDrawn] },
  };
}

/** A uPlot chart that follows its container's width. */
export function MetricChart(props: Props): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const { data, labels, xAxis, logScale, title, height, styles, bands, syncKey } = props;
  const structure = JSON.stringify([labels, xAxis, logScale, title, height, styles, bands, syncKey]);
  const latest = useRef(props);
  const present = useRef<Int32Array[]>([]);
  const drawnData = useRef<Aligned | undefined>(undefined);
  useLayoutEffect(() => {
    latest.current = props;
  });

  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const onDrawn = (): void => {
      element.dataset.drawn = String(Number(element.dataset.drawn ?? '0') + 1);
      performance.mark(`runstash:chart-drawn:${latest.current.title}`);
    };
    present.current = presentIndices(latest.current.data);
    drawnData.current = latest.current.data;
    const plot = new uPlot(optionsOf(latest.current, element.clientWidth || 600, onDrawn, present), latest.current.data, element);
    chart.current = plot;
    const observer = new ResizeObserver(() => {
      if (element.clientWidth > 0 && element.clientWidth !== plot.width) {
        plot.setSize({ width: element.clientWidth, height: plot.height });
      }
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, [structure]);

  useEffect(() => {
    // A new chart was just built with these data: drawing them again would be wasted.
    if (!chart.current || drawnData.current === data) return;
    drawnData.current = data;
    present.current = presentIndices(data);
    chart.current.setData(data);
  }, [data]);

  return <div className="metric-chart" ref={host} data-testid="metric-chart" data-title={title} data-points={data[0].length} />;
}
