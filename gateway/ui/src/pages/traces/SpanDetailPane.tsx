import type { ReactNode } from 'react';
import { JsonSection } from './JsonView';
import type { SpanDetail, SpanEvent } from './spanJson';
import { spanDuration } from './spanTree';

function ExceptionBox({ event }: { event: SpanEvent }): ReactNode {
  const a = event.attributes;
  const text = (key: string): string => (a[key] === undefined ? '' : String(a[key]));
  return (
    <div className="span-exception" role="alert" data-testid="span-exception">
      <strong>{text('exception.type') || 'Exception'}</strong>: {text('exception.message')}
      {a['exception.stacktrace'] !== undefined && (
        <details>
          <summary>stack trace</summary>
          <pre className="pre">{text('exception.stacktrace')}</pre>
        </details>
      )}
    </div>
  );
}

/** Inputs, outputs, attributes and events of one span; exceptions stand out on top. */
export function SpanDetailPane({ detail, traceStart }: { detail: SpanDetail; traceStart: number }): ReactNode {
  const { row } = detail;
  const exceptions = detail.events.filter((e) => e.name === 'exception');
  const others = detail.events.map((e) => ({ name: e.name, offset: spanDuration(e.timeMs - traceStart), attributes: e.attributes }));
  return (
    <div className="span-detail" data-testid="span-detail">
      <h2 data-testid="span-detail-name">{row.name}</h2>
      <p className="muted">
        {row.type && <span className={`span-type type-${row.type}`}>{row.type}</span>} span <code>{row.id}</code> · status{' '}
        <span className={`trace-state state-${detail.statusCode}`} data-testid="span-status">
          {detail.statusCode}
        </span>
        {detail.statusMessage && ` (${detail.statusMessage})`} · started +{spanDuration(row.startMs - traceStart)} · took{' '}
        {spanDuration(row.endMs - row.startMs)}
      </p>
      {exceptions.map((event, i) => (
        <ExceptionBox key={i} event={event} />
      ))}
      <JsonSection title="Inputs" value={detail.inputs} testId="span-inputs" />
      <JsonSection title="Outputs" value={detail.outputs} testId="span-outputs" />
      <JsonSection title="Attributes" value={detail.attributes} testId="span-attributes" open={false} />
      <JsonSection title={`Events (${detail.events.length})`} value={others.length ? others : undefined} testId="span-events" open={exceptions.length > 0} />
    </div>
  );
}
