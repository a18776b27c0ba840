import { useCallback } from 'react';
import { searchRuns } from '../../api/endpoints';
import type { Run } from '../../api/types';
import { POLL_MS } from '../../charts/useHistories';
import { usePoll } from '../../util/useAsync';

/** The server accepts lists only for run_id; ids are hex, so no quoting issues. */
export function runIdFilter(runIds: readonly string[]): string {
  return `attributes.run_id IN (${runIds.map((id) => `'${id.replaceAll("'", '')}'`).join(', ')})`;
}

/**
 * While some loaded runs are RUNNING and polling is not paused, re-reads only those runs every
 * POLL_MS (one search by run id) and patches them into the table.
 */
export function useLiveRuns(
  experimentIds: readonly string[],
  runningIds: readonly string[],
  paused: boolean,
  patch: (fresh: readonly Run[]) => void,
): void {
  const key = runningIds.join(',');
  const tick = useCallback(() => {
    const ids = key.split(',').filter(Boolean);
    if (ids.length === 0) return;
    searchRuns({ experimentIds, filter: runIdFilter(ids), orderBy: [], viewType: 'ALL', pageSize: ids.length }).then((page) => patch(page.runs), () => undefined);
  }, [key, experimentIds, patch]);
  usePoll(tick, key && !paused ? POLL_MS : undefined);
}
