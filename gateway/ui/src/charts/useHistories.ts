import { useCallback, useEffect, useMemo, useState } from 'react';
import { useAsync, usePoll, type AsyncState } from '../util/useAsync';
import { loadKey, MAX_RUNS_PER_CALL } from './chartData';
import { seriesOf, type RunSeries } from './series';

/** The server samples at most 2500 points per run. */
export const MAX_POINTS_PER_RUN = 2500;
const MIN_POINTS_PER_RUN = 50;
/** Width steps for max_results, so a resize by a few pixels does not fetch again. */
const WIDTH_STEP = 100;
export const POLL_MS = 5000;

/**
 * Points per run worth fetching for a plot `width` CSS pixels wide: about one per pixel (the
 * server's sample keeps each run's first and last point), rounded up to a WIDTH_STEP.
 */
export function pointsForWidth(width: number): number {
  const stepped = Math.ceil(Math.max(width, 1) / WIDTH_STEP) * WIDTH_STEP;
  return Math.min(MAX_POINTS_PER_RUN, Math.max(MIN_POINTS_PER_RUN, stepped));
}

/** Every run's points of one metric (batched with the other charts asking at the same time). */
async function loadHistories(
  runIds: readonly string[],
  metricKey: string,
  maxResults: number,
  signal: AbortSignal,
): Promise<RunSeries[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < runIds.length; i += MAX_RUNS_PER_CALL) chunks.push(runIds.slice(i, i + MAX_RUNS_PER_CALL));
  const answers = await Promise.all(chunks.map((chunk) => loadKey(chunk, metricKey, maxResults, signal)));
  const byRun = new Map(answers.flatMap((answer) => [...answer]));
  return runIds.map((runId) => byRun.get(runId) ?? seriesOf(runId, []));
}

const NEVER = new Promise<never>(() => undefined);

/**
 * Metric histories of several runs. While `liveRunIds` (the RUNNING ones) is not empty, only
 * those runs are fetched again every POLL_MS and merged in; finished runs are not re-read.
 */
export function useHistories(
  runIds: readonly string[],
  metricKey: string,
  liveRunIds: readonly string[],
  /** Points per run (see pointsForWidth); undefined: not yet known, nothing is fetched. */
  maxResults: number | undefined,
): AsyncState<RunSeries[]> {
  const key = JSON.stringify([runIds, metricKey, maxResults]);
  const state = useAsync(key, (signal) => (maxResults === undefined ? NEVER : loadHistories(runIds, metricKey, maxResults, signal)));
  const [fresh, setFresh] = useState<{ key: string; series: Map<string, RunSeries> } | undefined>(undefined);
  const liveKey = liveRunIds.join(',');
  const [tick, setTick] = useState(0);
  // A stable callback: a new one each render would restart the poll timer before it fires.
  const next = useCallback(() => setTick((t) => t + 1), []);
  usePoll(next, liveKey ? POLL_MS : undefined);
  useEffect(() => {
    if (tick === 0 || !liveKey || maxResults === undefined) return undefined;
    const controller = new AbortController();
    const ids = liveKey.split(',');
    loadHistories(ids, metricKey, maxResults, controller.signal).then(
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
  }, [tick, liveKey, metricKey, key, maxResults]);
  const { data } = state;
  const merged = useMemo(
    () => (data && fresh?.key === key ? data.map((s) => fresh.series.get(s.runId) ?? s) : data),
    [data, fresh, key],
  );
  return { ...state, data: merged };
}
