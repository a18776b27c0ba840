import { useCallback, useEffect, useState } from 'react';
import { searchTraces, type TraceInfo, type TraceSearch } from '../../api/traces';
import { usePoll } from '../../util/useAsync';
import { appendPage, mergeHead } from './tracePages';

export const FIRST_PAGE_SIZE = 100;
export const PAGE_SIZE = 500;
export const TAIL_MS = 2000;

export interface TracePages {
  traces: TraceInfo[];
  hasMore: boolean;
  loading: boolean;
  error: Error | undefined;
  /** Traces the live tail added since the list was loaded. */
  arrived: number;
  loadMore: () => void;
  reload: () => void;
}

interface Pages {
  key: string;
  generation: number;
  traces: TraceInfo[];
  token: string | undefined;
  fetchingMore: boolean;
  arrived: number;
  error?: Error;
}

type Search = Omit<TraceSearch, 'pageToken' | 'pageSize'>;

const NONE: TraceInfo[] = [];

function errorOf(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Traces of a search, a page at a time. With `tail` on, the first page is read again every
 * TAIL_MS: new traces go on top (`prepend`, i.e. newest-first order) and listed ones refresh.
 */
export function useTracePages(search: Search, tail: boolean, prepend: boolean): TracePages {
  const key = JSON.stringify(search);
  const [generation, setGeneration] = useState(0);
  const [pages, setPages] = useState<Pages | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    const done = (p: Pages): void => {
      if (!controller.signal.aborted) setPages(p);
    };
    searchTraces({ ...(JSON.parse(key) as Search), pageSize: FIRST_PAGE_SIZE }, controller.signal).then(
      (page) => done({ key, generation, traces: page.traces, token: page.nextPageToken, fetchingMore: false, arrived: 0 }),
      (error: unknown) => done({ key, generation, traces: [], token: undefined, fetchingMore: false, arrived: 0, error: errorOf(error) }),
    );
    return () => controller.abort();
  }, [key, generation]);

  const current = pages !== undefined && pages.key === key && pages.generation === generation;
  const mine = useCallback((p: Pages | undefined): p is Pages => p?.key === key && p.generation === generation, [key, generation]);

  const loadMore = useCallback(() => {
    if (!current || !pages.token || pages.fetchingMore) return;
    setPages((p) => (mine(p) ? { ...p, fetchingMore: true } : p));
    searchTraces({ ...(JSON.parse(key) as Search), pageSize: PAGE_SIZE, pageToken: pages.token }).then(
      (page) => setPages((p) => (mine(p) ? { ...p, traces: appendPage(p.traces, page.traces), token: page.nextPageToken, fetchingMore: false } : p)),
      (error: unknown) => setPages((p) => (mine(p) ? { ...p, fetchingMore: false, token: undefined, error: errorOf(error) } : p)),
    );
  }, [current, pages, key, mine]);

  const tick = useCallback(() => {
    searchTraces({ ...(JSON.parse(key) as Search), pageSize: FIRST_PAGE_SIZE }).then(
      (page) =>
        setPages((p) => {
          if (!mine(p)) return p;
          const head = prepend ? page.traces : page.traces.filter((t) => p.traces.some((s) => s.trace_id === t.trace_id));
          const merged = mergeHead(p.traces, head);
          return { ...p, traces: merged.traces, arrived: p.arrived + merged.added };
        }),
      () => undefined,
    );
  }, [key, mine, prepend]);
  usePoll(tick, tail && current && !pages.error ? TAIL_MS : undefined);

  return {
    traces: current ? pages.traces : NONE,
    hasMore: current && pages.token !== undefined,
    loading: !current || pages.fetchingMore,
    error: current ? pages.error : undefined,
    arrived: current ? pages.arrived : 0,
    loadMore,
    reload: useCallback(() => setGeneration((g) => g + 1), []),
  };
}
