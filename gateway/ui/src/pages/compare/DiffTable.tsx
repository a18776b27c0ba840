import type { ReactNode } from 'react';
import type { DiffRow } from './diff';

interface Props {
  rows: readonly DiffRow[];
  runLabels: readonly string[];
  onlyDifferences: boolean;
  testId: string;
}

/** Keys down, runs across; rows whose values differ are highlighted. */
export function DiffTable({ rows, runLabels, onlyDifferences, testId }: Props): ReactNode {
  const shown = onlyDifferences ? rows.filter((r) => r.differs) : rows;
  if (shown.length === 0) return <p className="muted">{rows.length ? 'All values are equal.' : 'Nothing logged.'}</p>;
  return (
    <div className="csv-scroll">
      <table className="grid diff" data-testid={testId}>
        <thead>
          <tr>
            <th />
            {runLabels.map((label, i) => (
              <th key={i}>{label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((row) => (
            <tr key={row.key} className={row.differs ? 'differs' : undefined} data-differs={row.differs}>
              <th>{row.key}</th>
              {row.values.map((value, i) => (
                <td key={i}>{value ?? '—'}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
