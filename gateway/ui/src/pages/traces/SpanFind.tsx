import { useMemo, useState, type ReactNode } from 'react';
import type { SpanTree } from './spanTree';

interface Props {
  tree: SpanTree;
  /** The tree's version, so matches are recomputed as spans stream in. */
  version: number;
  onPick: (id: string) => void;
}

/** Finds spans by name or type and steps through them, e.g. in a 30,000-span trace. */
export function SpanFind({ tree, version, onPick }: Props): ReactNode {
  const [needle, setNeedle] = useState('');
  const [at, setAt] = useState(0);
  const matches = useMemo(() => {
    void version;
    return tree.find(needle.trim());
  }, [tree, version, needle]);
  const go = (step: number): void => {
    if (matches.length === 0) return;
    const next = (((at + step) % matches.length) + matches.length) % matches.length;
    setAt(next);
    onPick(matches[next] as string);
  };
  return (
    <form
      className="span-find"
      onSubmit={(e) => {
        e.preventDefault();
        go(needle === '' ? 0 : 1);
      }}
    >
      <input
        value={needle}
        onChange={(e) => {
          setNeedle(e.target.value);
          setAt(-1);
        }}
        placeholder="Find span by name or type"
        aria-label="Find span"
        spellCheck={false}
      />
      <span className="muted" data-testid="span-find-count">
        {needle.trim() ? (at >= 0 && matches.length ? `${at + 1} of ${matches.length}` : `${matches.length} found`) : ''}
      </span>
      <button type="button" onClick={() => go(-1)} disabled={matches.length === 0} aria-label="Previous match">
        ↑
      </button>
      <button type="submit" disabled={matches.length === 0} aria-label="Next match">
        ↓
      </button>
    </form>
  );
}
