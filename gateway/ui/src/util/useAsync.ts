import { useCallback, useEffect, useState } from 'react';

export interface AsyncState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Fetches again, keeping the current data on screen until the new answer arrives. */
  reload: () => void;
}

interface Settled<T> {
  key: string;
  generation: number;
  data?: T;
  error?: Error;
}

/** Runs `load` whenever `key` changes (and on reload), aborting the previous call. */
export function useAsync<T>(key: string, load: (signal: AbortSignal) => Promise<T>): AsyncState<T> {
  const [generation, setGeneration] = useState(0);
  const [settled, setSettled] = useState<Settled<T> | undefined>(undefined);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setSettled({ key, generation, data });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        const err = error instanceof Error ? error : new Error(String(error));
        setSettled((s) => ({ key, generation, data: s?.key === key ? s.data : undefined, error: err }));
      },
    );
    return () => controller.abort();
    // `load` is recreated every render; `key` says when its inputs changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, generation]);

  const current = settled?.key === key;
  return {
    data: current ? settled.data : undefined,
    error: current ? settled.error : undefined,
    loading: !current || settled.generation !== generation,
    reload,
  };
}

/** Calls `tick` every `ms` while the page is visible; `undefined` stops polling. */
export function usePoll(tick: () => void, ms: number | undefined): void {
  useEffect(() => {
    if (!ms) return undefined;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') tick();
    }, ms);
    return () => window.clearInterval(timer);
  }, [tick, ms]);
}
