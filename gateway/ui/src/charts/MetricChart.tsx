import { useEffect, useLayoutEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { colorOf, type Aligned, type XAxis } from './series';

interface Props {
  title: string;
  data: Aligned;
  labels: readonly string[];
  xAxis: XAxis;
  logScale: boolean;
  height?: number;
}

const X_LABEL: Record<XAxis, string> = { step: 'step', time: 'time', relative: 'seconds since start' };

function optionsOf(props: Props, width: number, onDrawn: () => void): uPlot.Options {
  return {
    width,
    height: props.height ?? 220,
    title: props.title,
    scales: { x: { time: props.xAxis === 'time' }, y: { distr: props.logScale ? 3 : 1 } },
    series: [
      { label: X_LABEL[props.xAxis] },
      ...props.labels.map((label, i) => ({
        label,
        stroke: colorOf(i),
        width: 1.5,
        spanGaps: true,
        // uPlot's default shows points only where they are sparse (e.g. a single value).
      })),
    ],
    legend: { show: props.labels.length <= 12 },
    cursor: { drag: { x: true, y: false } },
    hooks: { draw: [onDrawn] },
  };
}

/** A uPlot chart that follows its container's width. */
export function MetricChart(props: Props): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const { data, labels, xAxis, logScale, title, height } = props;
  const structure = JSON.stringify([labels, xAxis, logScale, title, height]);
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
      if (element.clientWidth > 0) plot.setSize({ width: element.clientWidth, height: plot.height });
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
