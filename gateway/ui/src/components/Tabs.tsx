import type { ReactNode } from 'react';

interface Props<T extends string> {
  tabs: readonly { id: T; title: string }[];
  current: T;
  onSelect: (id: T) => void;
}

export function Tabs<T extends string>({ tabs, current, onSelect }: Props<T>): ReactNode {
  return (
    <div className="tabs" role="tablist">
      {tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          aria-selected={tab.id === current}
          className={tab.id === current ? 'tab current' : 'tab'}
          onClick={() => onSelect(tab.id)}
          data-testid={`tab-${tab.id}`}
        >
          {tab.title}
        </button>
      ))}
    </div>
  );
}
