import { useCallback, useEffect, useState } from 'react';
import { searchRuns, type RunSearch } from '../../api/endpoints';
import type { Run } from '../../api/types';

export interface RunPages {
  runs: Run[];
  /** True while another page exists on the server. */
  hasMore: boolean;
  loading: boolean;
  error: Error | undefined;
  loadMore: () => void;
  reload: () => void;
  /** Swaps in fresh copies of some runs (live polling), keeping the rest untouched. */
  patch: (fresh: readonly Run[]) => void;
}

interface Pages {
  key: string;
  generation: number;
  runs: Run[];
  token: string | undefined;
  fetchingMore: boolean;
  error?: Error;
}

type Search = Omit<RunSearch, 'pageToken'>;

const NO_RUNS: Run[] = [];

function errorOf(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Runs of a search, fetched a page at a time by following the server's page tokens. The first
 * page is small so rows show quickly; the tokens carry an offset, so later pages may be larger.
 */
export function useRunPages(search: Search, firstPageSize: number): RunPages {
  // The key is the search itself, so callbacks can rebuild the search from it.
  const key = JSON.stringify(search);
  const [generation, setGeneration] = useState(0);
  const [pages, setPages] = useState<Pages | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    searchRuns({ ...(JSON.parse(key) as Search), pageSize: firstPageSize }, controller.signal).then(
      (page) => {
        if (controller.signal.aborted) return;
        setPages({ key, generation, runs: page.runs, token: page.nextPageToken, fetchingMore: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setPages({ key, generation, runs: [], token: undefined, fetchingMore: false, error: errorOf(error) });
      },
    );
    return () => controller.abort();
  }, [key, generation, firstPageSize]);

  const current = pages !== undefined && pages.key === key && pages.generation === generation;
  const loadMore = useCallback(() => {
    if (!current || !pages.token || pages.fetchingMore) return;
    const mine = (p: Pages | undefined): p is Pages => p?.key === key && p.generation === generation;
    setPages((p) => (mine(p) ? { ...p, fetchingMore: true } : p));
    searchRuns({ ...(JSON.parse(key) as Search), pageToken: pages.token }).then(
      (page) =>
        setPages((p) =>
          mine(p) ? { ...p, runs: p.runs.concat(page.runs), token: page.nextPageToken, fetchingMore: false } : p,
        ),
      (error: unknown) => setPages((p) => (mine(p) ? { ...p, fetchingMore: false, token: undefined, error: errorOf(error) } : p)),
    );
  }, [current, pages, key, generation]);

  return {
    runs: current ? pages.runs : NO_RUNS,
    hasMore: current && pages.token !== undefined,
    loading: !current || pages.fetchingMore,
    error: current ? pages.error : undefined,
    loadMore,
    reload: useCallback(() => setGeneration((g) => g + 1), []),
    patch: useCallback((fresh: readonly Run[]) => {
      if (fresh.length === 0) return;
      const byId = new Map(fresh.map((r) => [r.info.run_id, r]));
      setPages((p) => (p ? { ...p, runs: p.runs.map((r) => byId.get(r.info.run_id) ?? r) } : p));
    }, []),
  };
}
