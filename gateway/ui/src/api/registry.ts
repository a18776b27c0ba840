// MLflow's model registry REST API (2.0), one function per call the UI makes.
import { apiGet, apiPost, apiRequest, queryString } from './client';
import type { KeyValue } from './types';

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  status_message?: string;
  tags?: KeyValue[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: KeyValue[];
  aliases?: { alias: string; version: string }[];
}

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;

const V2 = 'ajax-api/2.0/mlflow/';

export interface ModelSearch {
  filter: string;
  orderBy: readonly string[];
  pageSize: number;
  pageToken?: string;
}

export async function searchRegisteredModels(
  search: ModelSearch,
  signal?: AbortSignal,
): Promise<{ models: RegisteredModel[]; nextPageToken?: string }> {
  const body = await apiGet<{ registered_models?: RegisteredModel[]; next_page_token?: string }>(
    'registered-models/search',
    {
      filter: search.filter || undefined,
      order_by: search.orderBy.length ? search.orderBy : undefined,
      max_results: search.pageSize,
      page_token: search.pageToken,
    },
    signal,
  );
  return { models: body.registered_models ?? [], nextPageToken: body.next_page_token };
}

export async function getRegisteredModel(name: string, signal?: AbortSignal): Promise<RegisteredModel> {
  const body = await apiGet<{ registered_model: RegisteredModel }>('registered-models/get', { name }, signal);
  return body.registered_model;
}

export async function createRegisteredModel(name: string): Promise<RegisteredModel> {
  const body = await apiPost<{ registered_model: RegisteredModel }>('registered-models/create', { name });
  return body.registered_model;
}

export async function renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
  const body = await apiPost<{ registered_model: RegisteredModel }>('registered-models/rename', { name, new_name: newName });
  return body.registered_model;
}

export async function updateRegisteredModel(name: string, description: string): Promise<void> {
  await apiRequest('PATCH', `${V2}registered-models/update`, { name, description });
}

export async function deleteRegisteredModel(name: string): Promise<void> {
  await apiRequest('DELETE', `${V2}registered-models/delete`, { name });
}

export async function setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
  await apiPost('registered-models/set-tag', { name, key, value });
}

export async function deleteRegisteredModelTag(name: string, key: string): Promise<void> {
  await apiRequest('DELETE', `${V2}registered-models/delete-tag`, { name, key });
}

export async function setAlias(name: string, alias: string, version: string): Promise<void> {
  await apiPost('registered-models/alias', { name, alias, version });
}

export async function deleteAlias(name: string, alias: string): Promise<void> {
  await apiRequest('DELETE', `${V2}registered-models/alias`, { name, alias });
}

/** Every version of one model, newest first (pages followed up to `limit`). */
export async function searchModelVersions(name: string, limit: number, signal?: AbortSignal): Promise<ModelVersion[]> {
  const versions: ModelVersion[] = [];
  let pageToken: string | undefined;
  do {
    const body = await apiGet<{ model_versions?: ModelVersion[]; next_page_token?: string }>(
      'model-versions/search',
      { filter: `name = '${name.replaceAll("'", "\\'")}'`, max_results: 1000, order_by: ['version_number DESC'], page_token: pageToken },
      signal,
    );
    versions.push(...(body.model_versions ?? []));
    pageToken = body.next_page_token;
  } while (pageToken && versions.length < limit);
  return versions;
}

export async function getModelVersion(name: string, version: string, signal?: AbortSignal): Promise<ModelVersion> {
  const body = await apiGet<{ model_version: ModelVersion }>('model-versions/get', { name, version }, signal);
  return body.model_version;
}

export interface NewVersion {
  name: string;
  source: string;
  runId?: string;
  modelId?: string;
}

export async function createModelVersion(v: NewVersion): Promise<ModelVersion> {
  const body = await apiPost<{ model_version: ModelVersion }>('model-versions/create', {
    name: v.name,
    source: v.source,
    run_id: v.runId,
    model_id: v.modelId,
  });
  return body.model_version;
}

export async function updateModelVersion(name: string, version: string, description: string): Promise<void> {
  await apiRequest('PATCH', `${V2}model-versions/update`, { name, version, description });
}

export async function transitionStage(name: string, version: string, stage: string): Promise<void> {
  await apiPost('model-versions/transition-stage', { name, version, stage, archive_existing_versions: false });
}

export async function deleteModelVersion(name: string, version: string): Promise<void> {
  await apiRequest('DELETE', `${V2}model-versions/delete`, { name, version });
}

export async function setVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
  await apiPost('model-versions/set-tag', { name, version, key, value });
}

export async function deleteVersionTag(name: string, version: string, key: string): Promise<void> {
  await apiRequest('DELETE', `${V2}model-versions/delete-tag`, { name, version, key });
}

/** One file of a version, through the registry's own download route. */
export function versionArtifactUrl(name: string, version: string, path: string): string {
  return `model-versions/get-artifact${queryString({ name, version, path })}`;
}
