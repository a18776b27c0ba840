import { useState, type ReactNode } from 'react';
import { Breakable } from './Breakable';

interface Props {
  rows: readonly { key: string; value: ReactNode; text: string }[];
  empty: string;
  testId: string;
}

/** A two-column table with a quick client-side key filter once it gets long. */
export function KeyValueTable({ rows, empty, testId }: Props): ReactNode {
  const [filter, setFilter] = useState('');
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  const needle = filter.toLowerCase();
  const shown = needle ? rows.filter((r) => r.key.toLowerCase().includes(needle) || r.text.toLowerCase().includes(needle)) : rows;
  return (
    <div>
      {rows.length > 10 && (
        <input className="filter" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="Filter" aria-label="Filter keys" />
      )}
      <table className="grid kv" data-testid={testId}>
        <tbody>
          {shown.map((row) => (
            <tr key={row.key}>
              <th>
                <Breakable text={row.key} />
              </th>
              <td>{row.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
