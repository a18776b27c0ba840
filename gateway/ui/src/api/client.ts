// Transport: every call is relative to the page so a static prefix keeps working.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) params.append(key, item);
    } else {
      params.append(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error_code?: string; message?: string; detail?: string };
    const message = body.message ?? body.detail ?? text;
    return new ApiError(response.status, body.error_code ?? String(response.status), message);
  } catch {
    const message = text.trim() || response.statusText;
    return new ApiError(response.status, String(response.status), message.slice(0, 500));
  }
}

// The signed-in session's `Authorization` header (api/auth.ts sets it). While the UI holds its own
// credential, requests omit the browser's: a 401 then reaches the sign-in page instead of the
// browser's basic-auth prompt. Without one (auth off, or an SSO proxy's cookie) they keep them.
let authorization: string | undefined;
let onUnauthorized: (() => void) | undefined;

export function setAuthorization(header: string | undefined, unauthorized?: () => void): void {
  authorization = header;
  onUnauthorized = unauthorized;
}

export function hasAuthorization(): boolean {
  return authorization !== undefined;
}

export function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  if (authorization === undefined) return fetch(url, { ...init, credentials: 'same-origin' });
  const headers = new Headers(init.headers);
  headers.set('Authorization', authorization);
  return fetch(url, { ...init, headers, credentials: 'omit' }).then((response) => {
    if (response.status === 401) onUnauthorized?.();
    return response;
  });
}

export async function send<T>(url: string, init: RequestInit, signal?: AbortSignal): Promise<T> {
  const response = await authorizedFetch(url, { ...init, signal });
  if (!response.ok) throw await errorFrom(response);
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

const API = 'ajax-api/2.0/mlflow/';

export function apiGet<T>(path: string, query: Query, signal?: AbortSignal): Promise<T> {
  return send<T>(`${API}${path}${queryString(query)}`, { method: 'GET' }, signal);
}

export function apiPost<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return send<T>(
    `${API}${path}`,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    signal,
  );
}

/** Any method on any API version: `path` is relative to the page, e.g. `ajax-api/3.0/mlflow/...`. */
export function apiRequest<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  return send<T>(path, init, signal);
}

export function artifactUrl(runId: string, path: string): string {
  return `get-artifact${queryString({ run_id: runId, path })}`;
}

export function loggedModelArtifactUrl(modelId: string, path: string): string {
  return `${API}logged-models/${encodeURIComponent(modelId)}/artifacts/files${queryString({ artifact_file_path: path })}`;
}

/**
 * Reads at most `maxBytes` of a download, cancelling it after that. `headers` (a Range) are sent
 * as given; the answer's status and headers come back with the bytes.
 */
export async function fetchBytes(
  url: string,
  maxBytes: number,
  signal?: AbortSignal,
  headers?: Record<string, string>,
): Promise<{ bytes: Uint8Array; truncated: boolean; status?: number; headers?: Headers }> {
  const response = await authorizedFetch(url, { signal, headers });
  if (!response.ok) throw await errorFrom(response);
  const { status } = response;
  if (!response.body) return { bytes: new Uint8Array(await response.arrayBuffer()), truncated: false, status, headers: response.headers };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, truncated: size > maxBytes, status, headers: response.headers };
}
