import type { ReactNode } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { formatDuration } from '../../util/format';
import { useAsync } from '../../util/useAsync';
import { traceOverview } from './traceMetrics';

const DAYS = 14;

/** Traces per day over the last two weeks and their p95 latency, above the traces table. */
export function TraceOverviewStrip({ experimentIds, version }: { experimentIds: readonly string[]; version: number }): ReactNode {
  const key = `${experimentIds.join(',')}|${version}`;
  const overview = useAsync(key, (signal) => traceOverview(experimentIds, DAYS, Date.now(), signal));
  if (overview.error) return <ErrorBox error={overview.error} />;
  const data = overview.data;
  if (!data) return <div className="trace-overview muted">Loading overview…</div>;
  const peak = Math.max(1, ...data.days.map((d) => d.count));
  return (
    <div className="trace-overview" data-testid="trace-overview" data-total={data.total} data-p95-ms={data.p95Ms ?? ''}>
      <span className="overview-figure">
        <strong>{data.total}</strong> traces in {DAYS} days
      </span>
      <span className="overview-figure">
        p95 latency <strong>{data.p95Ms === undefined ? '–' : formatDuration(data.p95Ms)}</strong>
      </span>
      <span className="overview-bars" aria-label="traces per day">
        {data.days.map((d) => (
          <span
            key={d.start}
            className="overview-bar"
            data-testid="overview-day"
            data-day={new Date(d.start).toISOString().slice(0, 10)}
            data-count={d.count}
            title={`${new Date(d.start).toISOString().slice(0, 10)}: ${d.count}`}
            style={{ height: `${Math.max(2, Math.round((24 * d.count) / peak))}px` }}
          />
        ))}
      </span>
    </div>
  );
}
