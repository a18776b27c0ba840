import { useState, type ReactNode } from 'react';
import { deleteRun, restoreRun } from '../../api/endpoints';
import { ErrorBox } from '../../components/ErrorBox';
import { hrefOf, paths } from '../../routing/route';

interface Props {
  selected: readonly string[];
  onDone: () => void;
  onClear: () => void;
  /** Delete and restore need MANAGE on the experiments; without it they are not offered. */
  canManage?: boolean;
}

/** Compare, delete or restore the selected runs. */
export function RunActions({ selected, onDone, onClear, canManage = true }: Props): ReactNode {
  const [error, setError] = useState<Error | undefined>(undefined);
  const apply = (action: (id: string) => Promise<void>): void => {
    setError(undefined);
    Promise.all(selected.map(action)).then(onDone, (e: unknown) => setError(e instanceof Error ? e : new Error(String(e))));
  };
  const none = selected.length === 0;
  return (
    <div className="toolbar">
      <span>{selected.length} selected</span>
      <a
        className={selected.length >= 2 ? 'button' : 'button disabled'}
        href={selected.length >= 2 ? hrefOf(paths.compare(), { runs: selected.join(',') }) : undefined}
        data-testid="compare-button"
      >
        Compare
      </a>
      {canManage && (
        <>
          <button type="button" disabled={none} onClick={() => apply(deleteRun)}>
            Delete
          </button>
          <button type="button" disabled={none} onClick={() => apply(restoreRun)}>
            Restore
          </button>
        </>
      )}
      <button type="button" disabled={none} onClick={onClear}>
        Clear selection
      </button>
      {error && <ErrorBox error={error} />}
    </div>
  );
}
