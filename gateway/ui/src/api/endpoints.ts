// One typed function per REST endpoint the UI uses (spec §5/§6).
import { apiGet, apiPost } from './client';
import type { Experiment, FileInfo, LoggedModel, Metric, Run, RunInfo, ViewType } from './types';

export interface ExperimentSearch {
  filter?: string;
  viewType: ViewType;
  pageToken?: string;
}

export async function searchExperiments(
  search: ExperimentSearch,
  signal?: AbortSignal,
): Promise<{ experiments: Experiment[]; nextPageToken?: string }> {
  const body = await apiPost<{ experiments?: Experiment[]; next_page_token?: string }>(
    'experiments/search',
    {
      max_results: 1000,
      filter: search.filter || undefined,
      view_type: search.viewType,
      page_token: search.pageToken,
      order_by: ['name ASC'],
    },
    signal,
  );
  return { experiments: body.experiments ?? [], nextPageToken: body.next_page_token };
}

export async function getExperiment(id: string, signal?: AbortSignal): Promise<Experiment> {
  const body = await apiGet<{ experiment: Experiment }>('experiments/get', { experiment_id: id }, signal);
  return body.experiment;
}

export async function createExperiment(name: string): Promise<string> {
  const body = await apiPost<{ experiment_id: string }>('experiments/create', { name });
  return body.experiment_id;
}

export async function renameExperiment(id: string, newName: string): Promise<void> {
  await apiPost('experiments/update', { experiment_id: id, new_name: newName });
}

export async function deleteExperiment(id: string): Promise<void> {
  await apiPost('experiments/delete', { experiment_id: id });
}

export async function restoreExperiment(id: string): Promise<void> {
  await apiPost('experiments/restore', { experiment_id: id });
}

export interface RunSearch {
  experimentIds: readonly string[];
  filter: string;
  orderBy: readonly string[];
  viewType: ViewType;
  pageSize: number;
  pageToken?: string;
}

export async function searchRuns(
  search: RunSearch,
  signal?: AbortSignal,
): Promise<{ runs: Run[]; nextPageToken?: string }> {
  const body = await apiPost<{ runs?: Run[]; next_page_token?: string }>(
    'runs/search',
    {
      experiment_ids: search.experimentIds,
      filter: search.filter || undefined,
      order_by: search.orderBy.length ? search.orderBy : undefined,
      run_view_type: search.viewType,
      max_results: search.pageSize,
      page_token: search.pageToken,
    },
    signal,
  );
  return { runs: body.runs ?? [], nextPageToken: body.next_page_token };
}

export async function getRun(runId: string, signal?: AbortSignal): Promise<Run> {
  const body = await apiGet<{ run: Run }>('runs/get', { run_id: runId }, signal);
  return body.run;
}

export async function renameRun(runId: string, runName: string): Promise<RunInfo> {
  const body = await apiPost<{ run_info: RunInfo }>('runs/update', { run_id: runId, run_name: runName });
  return body.run_info;
}

export async function setRunTag(runId: string, key: string, value: string): Promise<void> {
  await apiPost('runs/set-tag', { run_id: runId, key, value });
}

export async function deleteRunTag(runId: string, key: string): Promise<void> {
  await apiPost('runs/delete-tag', { run_id: runId, key });
}

export async function deleteRun(runId: string): Promise<void> {
  await apiPost('runs/delete', { run_id: runId });
}

export async function restoreRun(runId: string): Promise<void> {
  await apiPost('runs/restore', { run_id: runId });
}

export async function listArtifacts(runId: string, path: string, signal?: AbortSignal): Promise<FileInfo[]> {
  const body = await apiGet<{ files?: FileInfo[] }>(
    'artifacts/list',
    { run_id: runId, path: path || undefined },
    signal,
  );
  return body.files ?? [];
}

export async function listLoggedModelArtifacts(modelId: string, path: string, signal?: AbortSignal): Promise<FileInfo[]> {
  const body = await apiGet<{ files?: FileInfo[] }>(
    `logged-models/${encodeURIComponent(modelId)}/artifacts/directories`,
    { artifact_directory_path: path || undefined },
    signal,
  );
  return body.files ?? [];
}

/** Server-side downsampled history of one metric for up to 100 runs. */
export async function getHistoryBulkInterval(
  runIds: readonly string[],
  metricKey: string,
  maxResults: number,
  signal?: AbortSignal,
): Promise<Metric[]> {
  const body = await apiGet<{ metrics?: Metric[] }>(
    'metrics/get-history-bulk-interval',
    { run_ids: runIds, metric_key: metricKey, max_results: maxResults },
    signal,
  );
  return body.metrics ?? [];
}

export async function searchLoggedModels(
  experimentId: string,
  sourceRunId: string,
  signal?: AbortSignal,
): Promise<LoggedModel[]> {
  const body = await apiPost<{ models?: LoggedModel[] }>(
    'logged-models/search',
    { experiment_ids: [experimentId], filter: `source_run_id = '${sourceRunId}'`, max_results: 100 },
    signal,
  );
  return body.models ?? [];
}

/** Every logged model of some experiments (pages followed up to `limit`). */
export async function searchExperimentModels(experimentIds: readonly string[], limit: number, signal?: AbortSignal): Promise<LoggedModel[]> {
  const models: LoggedModel[] = [];
  let pageToken: string | undefined;
  do {
    const body = await apiPost<{ models?: LoggedModel[]; next_page_token?: string }>(
      'logged-models/search',
      { experiment_ids: experimentIds, max_results: 100, page_token: pageToken },
      signal,
    );
    models.push(...(body.models ?? []));
    pageToken = body.next_page_token;
  } while (pageToken && models.length < limit);
  return models;
}

export async function getLoggedModel(modelId: string, signal?: AbortSignal): Promise<LoggedModel> {
  const body = await apiGet<{ model: LoggedModel }>(`logged-models/${encodeURIComponent(modelId)}`, {}, signal);
  return body.model;
}
