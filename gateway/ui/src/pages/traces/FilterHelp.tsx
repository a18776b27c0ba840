import type { ReactNode } from 'react';

/** MLflow's trace search grammar, by example; a click puts the example in the filter box. */
const EXAMPLES: readonly { filter: string; what: string }[] = [
  { filter: "trace.status = 'ERROR'", what: 'failed traces' },
  { filter: 'trace.execution_time_ms > 1000', what: 'slower than a second' },
  { filter: "trace.name = 'chat'", what: 'by trace name' },
  { filter: "span.type = 'LLM' and span.name LIKE '%generate%'", what: 'traces with a matching span' },
  { filter: "span.attributes.`mlflow.llm.model` = 'gpt-4o'", what: 'by span attribute' },
  { filter: "tags.team = 'search'", what: 'by tag' },
  { filter: "metadata.`mlflow.trace.user` = 'alice'", what: 'by metadata (user, session, …)' },
  { filter: "feedback.correct = 'false'", what: 'by assessment' },
  { filter: "trace.text LIKE '%timeout%'", what: 'full text' },
];

export function FilterHelp({ onPick }: { onPick: (filter: string) => void }): ReactNode {
  return (
    <details className="filter-help" data-testid="filter-help">
      <summary>Filter syntax</summary>
      <p className="muted">
        Conditions joined with <code>and</code>; strings in single quotes, dotted keys in backticks.
      </p>
      <ul>
        {EXAMPLES.map((e) => (
          <li key={e.filter}>
            <button type="button" className="link mono" onClick={() => onPick(e.filter)}>
              {e.filter}
            </button>{' '}
            <span className="muted">{e.what}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}
