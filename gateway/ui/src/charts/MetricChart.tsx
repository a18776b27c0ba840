import { useEffect, useLayoutEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber } from '../util/format';
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

function optionsOf(props: Props, width: number, onDrawn: () => void): uPlot.Options {
  const styles: readonly SeriesStyle[] = props.styles ?? props.labels.map((label, i) => ({ label, color: colorOf(i) }));
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
    legend: { show: styles.length <= 30 },
    cursor: {
      drag: { x: true, y: false },
      ...(props.syncKey ? { sync: { key: props.syncKey, setSeries: false } } : {}),
    },
    hooks: { draw: [onDrawn] },
  };
}

/** A uPlot chart that follows its container's width. */
export function MetricChart(props: Props): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const { data, labels, xAxis, logScale, title, height, styles, bands, syncKey } = props;
  const structure = JSON.stringify([labels, xAxis, logScale, title, height, styles, bands, syncKey]);
  const latest = useRef(props);
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
    const plot = new uPlot(optionsOf(latest.current, element.clientWidth || 600, onDrawn), latest.current.data, element);
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
    chart.current?.setData(data);
  }, [data]);

  return <div className="metric-chart" ref={host} data-testid="metric-chart" data-title={title} data-points={data[0].length} />;
}
