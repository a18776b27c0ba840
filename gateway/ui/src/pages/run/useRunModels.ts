import { searchLoggedModels } from '../../api/endpoints';
import type { LoggedModel, Run } from '../../api/types';
import { useAsync, type AsyncState } from '../../util/useAsync';

/** The logged models whose source run is this run. */
export function useRunModels(run: Run): AsyncState<LoggedModel[]> {
  const { run_id: runId, experiment_id: experimentId } = run.info;
  return useAsync(runId, (signal) => searchLoggedModels(experimentId, runId, signal));
}
