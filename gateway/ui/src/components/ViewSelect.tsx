import type { ReactNode } from 'react';
import type { View } from '../util/filters';

export function ViewSelect({ value, onChange }: { value: View; onChange: (view: View) => void }): ReactNode {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value as View)} aria-label="Lifecycle" data-testid="view">
      <option value="active">active</option>
      <option value="deleted">deleted</option>
      <option value="all">all</option>
    </select>
  );
}
