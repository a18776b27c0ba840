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

/** Metric histories of several runs; polls while any of them is still running. */
export function useHistories(runIds: readonly string[], metricKey: string, live: boolean): AsyncState<RunSeries[]> {
  const state = useAsync(JSON.stringify([runIds, metricKey]), (signal) => loadHistories(runIds, metricKey, signal));
  usePoll(state.reload, live ? POLL_MS : undefined);
  return state;
}
