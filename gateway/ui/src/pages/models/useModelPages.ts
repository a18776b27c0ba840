import { useCallback, useEffect, useState } from 'react';
import { searchRegisteredModels, type ModelSearch, type RegisteredModel } from '../../api/registry';

interface Pages {
  key: string;
  generation: number;
  models: RegisteredModel[];
  token: string | undefined;
  fetchingMore: boolean;
  error?: Error;
}

type Search = Omit<ModelSearch, 'pageToken' | 'pageSize'>;

export interface ModelPages {
  models: RegisteredModel[];
  hasMore: boolean;
  loading: boolean;
  error: Error | undefined;
  loadMore: () => void;
  reload: () => void;
}

const NONE: RegisteredModel[] = [];
const PAGE_SIZE = 100;

function errorOf(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Registered models of a search, a page at a time, following the server's page tokens. */
export function useModelPages(search: Search): ModelPages {
  const key = JSON.stringify(search);
  const [generation, setGeneration] = useState(0);
  const [pages, setPages] = useState<Pages | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    searchRegisteredModels({ ...(JSON.parse(key) as Search), pageSize: PAGE_SIZE }, controller.signal).then(
      (page) => {
        if (!controller.signal.aborted) setPages({ key, generation, models: page.models, token: page.nextPageToken, fetchingMore: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setPages({ key, generation, models: [], token: undefined, fetchingMore: false, error: errorOf(error) });
      },
    );
    return () => controller.abort();
  }, [key, generation]);

  const current = pages !== undefined && pages.key === key && pages.generation === generation;
  const loadMore = useCallback(() => {
    if (!current || !pages.token || pages.fetchingMore) return;
    const mine = (p: Pages | undefined): p is Pages => p?.key === key && p.generation === generation;
    setPages((p) => (mine(p) ? { ...p, fetchingMore: true } : p));
    searchRegisteredModels({ ...(JSON.parse(key) as Search), pageSize: PAGE_SIZE, pageToken: pages.token }).then(
      (page) => setPages((p) => (mine(p) ? { ...p, models: p.models.concat(page.models), token: page.nextPageToken, fetchingMore: false } : p)),
      (error: unknown) => setPages((p) => (mine(p) ? { ...p, fetchingMore: false, token: undefined, error: errorOf(error) } : p)),
    );
  }, [current, pages, key, generation]);

  return {
    models: current ? pages.models : NONE,
    hasMore: current && pages.token !== undefined,
    loading: !current || pages.fetchingMore,
    error: current ? pages.error : undefined,
    loadMore,
    reload: useCallback(() => setGeneration((g) => g + 1), []),
  };
}
