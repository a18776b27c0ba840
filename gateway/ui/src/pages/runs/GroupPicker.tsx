import type { ReactNode } from 'react';
import type { GroupKey } from './grouping';

interface Props {
  keys: readonly GroupKey[];
  value: readonly GroupKey[];
  onChange: (keys: GroupKey[]) => void;
}

const same = (a: GroupKey, b: GroupKey): boolean => a.kind === b.kind && a.key === b.key;

/** Group by one or more params or tags; the order of picking is the order of grouping. */
export function GroupPicker({ keys, value, onChange }: Props): ReactNode {
  const title = value.length ? `Group: ${value.map((k) => k.key).join(', ')}` : 'Group by…';
  return (
    <details className="picker" data-testid="group-picker">
      <summary className="button">{title}</summary>
      <div className="picker-panel">
        {keys.length === 0 && <p className="muted">No params or tags to group by.</p>}
        {keys.map((key) => {
          const on = value.some((v) => same(v, key));
          return (
            <label key={`${key.kind}:${key.key}`} className="check">
              <input
                type="checkbox"
                checked={on}
                onChange={() => onChange(on ? value.filter((v) => !same(v, key)) : [...value, key])}
                data-testid={`group-${key.kind}-${key.key}`}
              />{' '}
              <span className={`kind-${key.kind}`}>{key.kind}</span> {key.key}
            </label>
          );
        })}
        {value.length > 0 && (
          <button type="button" className="link" onClick={() => onChange([])}>
            no grouping
          </button>
        )}
      </div>
    </details>
  );
}
