import { useCallback, useEffect, useMemo, useState } from 'react';
import { getHistoryBulkInterval } from '../api/endpoints';
import { useAsync, usePoll, type AsyncState } from '../util/useAsync';
import { groupByRun, type RunSeries } from './series';

/** The server caps a bulk-interval call at 100 runs and 2500 sampled points per run. */
const MAX_RUNS_PER_CALL = 100;
const POINTS_PER_RUN = 2500;
/** Runs are spread over a few parallel calls, which the server answers concurrently. */
const PARALLEL_CALLS = 4;
export const POLL_MS = 5000;

async function loadHistories(
  runIds: readonly string[],
  metricKey: string,
  signal: AbortSignal,
): Promise<RunSeries[]> {
  const size = Math.min(MAX_RUNS_PER_CALL, Math.max(1, Math.ceil(runIds.length / PARALLEL_CALLS)));
  const chunks: string[][] = [];
  for (let i = 0; i < runIds.length; i += size) chunks.push(runIds.slice(i, i + size));
  const answers = await Promise.all(
    chunks.map((chunk) => getHistoryBulkInterval(chunk, metricKey, POINTS_PER_RUN, signal)),
  );
  return groupByRun(answers.flat(), runIds);
}

/**
 * Metric histories of several runs. While `liveRunIds` (the RUNNING ones) is not empty, only
 * those runs are fetched again every POLL_MS and merged in; finished runs are not re-read.
 */
export function useHistories(runIds: readonly string[], metricKey: string, liveRunIds: readonly string[]): AsyncState<RunSeries[]> {
  const key = JSON.stringify([runIds, metricKey]);
  const state = useAsync(key, (signal) => loadHistories(runIds, metricKey, signal));
  const [fresh, setFresh] = useState<{ key: string; series: Map<string, RunSeries> } | undefined>(undefined);
  const liveKey = liveRunIds.join(',');
  const [tick, setTick] = useState(0);
  // A stable callback: a new one each render would restart the poll timer before it fires.
  const next = useCallback(() => setTick((t) => t + 1), []);
  usePoll(next, liveKey ? POLL_MS : undefined);
  useEffect(() => {
    if (tick === 0 || !liveKey) return undefined;
    const controller = new AbortController();
    const ids = liveKey.split(',');
    loadHistories(ids, metricKey, controller.signal).then(
      (series) => {
        if (controller.signal.aborted) return;
        setFresh((f) => {
          const merged = new Map(f?.key === key ? f.series : []);
          for (const s of series) merged.set(s.runId, s);
          return { key, series: merged };
        });
      },
      () => undefined,
    );
    return () => controller.abort();
  }, [tick, liveKey, metricKey, key]);
  const { data } = state;
  const merged = useMemo(
    () => (data && fresh?.key === key ? data.map((s) => fresh.series.get(s.runId) ?? s) : data),
    [data, fresh, key],
  );
  return { ...state, data: merged };
}
