// MLflow's basic-auth REST surface (users, grants) and runstash's access tokens, one function each.
import { apiGet, apiRequest, errorFrom } from './client';

export type Level = 'NO_PERMISSIONS' | 'READ' | 'USE' | 'EDIT' | 'MANAGE';
export const LEVELS: readonly Level[] = ['NO_PERMISSIONS', 'READ', 'USE', 'EDIT', 'MANAGE'];
export type ResourceType = 'experiment' | 'registered_model';

export interface User {
  id: number;
  username: string;
  is_admin?: boolean;
}

export interface Grant {
  /** The grant's row id (MLflow calls it role_id in this listing). */
  role_id?: number;
  resource_type: ResourceType;
  resource_pattern: string;
  permission: Level;
}

export interface AccessToken {
  id: number;
  name: string;
  created_ms?: number;
  expires_ms?: number;
  revoked?: boolean;
}

const V3 = 'ajax-api/3.0/mlflow/';
const V2 = 'ajax-api/2.0/mlflow/';

export function rankOf(level: Level): number {
  return LEVELS.indexOf(level);
}

export function basicHeader(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/**
 * One call with an explicit credential (or none), outside the session: the sign-in page checks
 * a password or token with it. `credentials: 'omit'` keeps the browser's basic-auth prompt away
 * on a 401 (Chrome prompts for fetches that send credentials); an SSO proxy's cookie needs
 * `same-origin`.
 */
export async function callAs<T>(
  authorization: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  credentials: RequestCredentials = 'omit',
): Promise<T> {
  const headers: Record<string, string> = {};
  if (authorization) headers.Authorization = authorization;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials,
  });
  if (!response.ok) throw await errorFrom(response);
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export const CURRENT_USER_PATH = `${V2}users/current`;

export async function currentUser(signal?: AbortSignal): Promise<User> {
  const body = await apiGet<{ user: User }>('users/current', {}, signal);
  return body.user;
}

export async function listUsers(signal?: AbortSignal): Promise<User[]> {
  const body = await apiGet<{ users?: User[] }>('users/list', {}, signal);
  return body.users ?? [];
}

export async function createUser(username: string, password: string): Promise<User> {
  const body = await apiRequest<{ user: User }>('POST', `${V2}users/create`, { username, password });
  return body.user;
}

export async function deleteUser(username: string): Promise<void> {
  await apiRequest('DELETE', `${V2}users/delete`, { username });
}

export async function setAdmin(username: string, isAdmin: boolean): Promise<void> {
  await apiRequest('PATCH', `${V2}users/update-admin`, { username, is_admin: isAdmin });
}

/** An admin resets anyone's password; a user changing their own gives the current one too. */
export async function updatePassword(username: string, password: string, currentPassword?: string): Promise<void> {
  await apiRequest('PATCH', `${V2}users/update-password`, { username, password, current_password: currentPassword });
}

export async function listGrants(username: string, signal?: AbortSignal): Promise<{ isAdmin: boolean; grants: Grant[] }> {
  const body = await apiRequest<{ is_admin?: boolean; permissions?: Grant[] }>(
    'GET',
    `${V3}users/permissions/list?${new URLSearchParams({ username })}`,
    undefined,
    signal,
  );
  return { isAdmin: Boolean(body.is_admin), grants: body.permissions ?? [] };
}

export async function currentGrants(signal?: AbortSignal): Promise<{ isAdmin: boolean; grants: Grant[] }> {
  const body = await apiRequest<{ is_admin?: boolean; permissions?: Grant[] }>('GET', `${V3}users/current/permissions`, undefined, signal);
  return { isAdmin: Boolean(body.is_admin), grants: body.permissions ?? [] };
}

/** The level `username` has on a resource: their grant, or the server's default permission. */
export async function effectiveLevel(username: string, type: ResourceType, id: string, signal?: AbortSignal): Promise<Level> {
  const query = new URLSearchParams({ username, resource_type: type, resource_id: id });
  const body = await apiRequest<{ permission?: Level }>('GET', `${V3}users/permissions/get?${query}`, undefined, signal);
  return body.permission ?? 'NO_PERMISSIONS';
}

export async function grant(username: string, type: ResourceType, id: string, permission: Level): Promise<void> {
  await apiRequest('POST', `${V3}users/permissions/grant`, { username, resource_type: type, resource_id: id, permission });
}

export async function revoke(username: string, type: ResourceType, id: string): Promise<void> {
  await apiRequest('POST', `${V3}users/permissions/revoke`, { username, resource_type: type, resource_id: id });
}

/** Changes an existing grant (MLflow 2.x update routes; the 3.x grant route refuses duplicates). */
export async function changeGrant(username: string, type: ResourceType, id: string, permission: Level): Promise<void> {
  if (type === 'experiment') {
    await apiRequest('PATCH', `${V2}experiments/permissions/update`, { experiment_id: id, username, permission });
  } else {
    await apiRequest('PATCH', `${V2}registered-models/permissions/update`, { name: id, username, permission });
  }
}

export async function listTokens(signal?: AbortSignal): Promise<AccessToken[]> {
  const body = await apiGet<{ tokens?: AccessToken[] }>('users/tokens/list', {}, signal);
  return body.tokens ?? [];
}

export async function createToken(name: string, expiresInDays: number): Promise<{ token: AccessToken; secret: string }> {
  return apiRequest('POST', `${V2}users/tokens/create`, { name, expires_in_days: expiresInDays || undefined });
}

export async function revokeToken(id: number): Promise<void> {
  await apiRequest('POST', `${V2}users/tokens/revoke`, { id });
}
