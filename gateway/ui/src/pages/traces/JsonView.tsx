import { useState, type ReactNode } from 'react';

/** Children beyond this are behind a "show more" button, so a huge payload renders quickly. */
const SHOWN = 100;

function preview(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length}]`;
  if (value && typeof value === 'object') return `{${Object.keys(value).length}}`;
  return '';
}

function Leaf({ value }: { value: unknown }): ReactNode {
  if (value === null) return <span className="json-null">null</span>;
  if (typeof value === 'string') return <span className="json-string">{JSON.stringify(value)}</span>;
  if (typeof value === 'number' || typeof value === 'bigint') return <span className="json-number">{String(value)}</span>;
  if (typeof value === 'boolean') return <span className="json-bool">{String(value)}</span>;
  return <span className="json-null">{String(value)}</span>;
}

function Entries({ value }: { value: object }): ReactNode {
  const [limit, setLimit] = useState(SHOWN);
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return (
    <ul className="json-children">
      {entries.slice(0, limit).map(([key, child]) => (
        <li key={key}>
          <JsonNode name={key} value={child} open={false} />
        </li>
      ))}
      {entries.length > limit && (
        <li>
          <button type="button" className="link" onClick={() => setLimit((l) => l + SHOWN * 10)}>
            show {Math.min(entries.length - limit, SHOWN * 10)} more of {entries.length - limit}
          </button>
        </li>
      )}
    </ul>
  );
}

/** One value: objects and arrays fold; their children render only once opened. */
export function JsonNode({ name, value, open }: { name?: string; value: unknown; open: boolean }): ReactNode {
  const [expanded, setExpanded] = useState(open);
  const label = name === undefined ? null : <span className="json-key">{name}: </span>;
  if (value === null || typeof value !== 'object') {
    return (
      <span className="json-line">
        {label}
        <Leaf value={value} />
      </span>
    );
  }
  return (
    <span className="json-line">
      <button type="button" className="json-toggle" aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
        {expanded ? '▾' : '▸'}
      </button>
      {label}
      <span className="muted">{preview(value)}</span>
      {expanded && <Entries value={value} />}
    </span>
  );
}

/** A titled, collapsible section holding one JSON value. */
export function JsonSection({ title, value, testId, open = true }: { title: string; value: unknown; testId: string; open?: boolean }): ReactNode {
  const empty = value === undefined || (value !== null && typeof value === 'object' && Object.keys(value).length === 0);
  return (
    <details className="json-section" open={open} data-testid={testId}>
      <summary>{title}</summary>
      {empty ? (
        <p className="muted">none</p>
      ) : (
        <div className="json">
          <JsonNode value={value} open />
        </div>
      )}
    </details>
  );
}
