import { useState, type ReactNode } from 'react';
import type { ColumnId, ColumnKind } from '../../util/searchKeys';
import { ATTRIBUTES, type AvailableKeys } from './columns';

interface Props {
  columns: readonly ColumnId[];
  keys: AvailableKeys;
  onChange: (columns: ColumnId[]) => void;
}

function Group({ title, kind, names, columns, onChange }: {
  title: string;
  kind: ColumnKind;
  names: readonly string[];
  columns: readonly ColumnId[];
  onChange: (columns: ColumnId[]) => void;
}): ReactNode {
  if (names.length === 0) return null;
  const has = (key: string): boolean => columns.some((c) => c.kind === kind && c.key === key);
  const toggle = (key: string): void => {
    onChange(has(key) ? columns.filter((c) => !(c.kind === kind && c.key === key)) : [...columns, { kind, key }]);
  };
  return (
    <fieldset>
      <legend>{title}</legend>
      {names.map((key) => (
        <label key={key} className="check">
          <input type="checkbox" checked={has(key)} onChange={() => toggle(key)} data-testid={`col-${kind}-${key}`} /> {key}
        </label>
      ))}
    </fieldset>
  );
}

/** A drop-down listing every attribute, metric, param and tag the loaded runs have. */
export function ColumnPicker({ columns, keys, onChange }: Props): ReactNode {
  const [open, setOpen] = useState(false);
  return (
    <div className="picker">
      <button type="button" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="columns-button">
        Columns ({columns.length})
      </button>
      {open && (
        <div className="picker-panel">
          <Group title="Attributes" kind="attribute" names={ATTRIBUTES.map((a) => a.key)} columns={columns} onChange={onChange} />
          <Group title="Metrics" kind="metric" names={keys.metrics} columns={columns} onChange={onChange} />
          <Group title="Params" kind="param" names={keys.params} columns={columns} onChange={onChange} />
          <Group title="Tags" kind="tag" names={keys.tags} columns={columns} onChange={onChange} />
        </div>
      )}
    </div>
  );
}
