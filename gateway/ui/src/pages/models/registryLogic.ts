// Pure helpers of the registry pages: search filters, sort keys, where a version's files live.
import type { ModelVersion } from '../../api/registry';

/** A string literal for MLflow's filter grammar (single quotes unless the text has one). */
export function quote(text: string): string {
  if (!text.includes("'")) return `'${text}'`;
  if (!text.includes('"')) return `"${text}"`;
  return `'${text.replaceAll("'", "\\'")}'`;
}

const EXPRESSION = /(=|!=|\bLIKE\b|\bILIKE\b|\bIN\b|^\s*tags\.|^\s*name\s)/i;

/**
 * A plain word searches names (case-insensitive, anywhere, `%` and `_` acting as wildcards as in
 * MLflow's UI: LIKE escapes differ between the databases); a filter expression passes as is.
 */
export function modelFilter(text: string): string {
  const q = text.trim();
  if (!q) return '';
  if (EXPRESSION.test(q)) return q;
  return `name ILIKE ${quote(`%${q}%`)}`;
}

export const SORT_KEYS = { name: 'name', updated: 'last_updated_timestamp', created: 'creation_timestamp' } as const;
export type SortKey = keyof typeof SORT_KEYS;
export interface ModelSort {
  key: SortKey;
  ascending: boolean;
}

export const DEFAULT_SORT: ModelSort = { key: 'name', ascending: true };

/** `sort=updated~desc` in the URL; anything else is the default (name ascending). */
export function parseSort(text: string | null): ModelSort {
  const [key, direction] = (text ?? '').split('~');
  if (!key || !(key in SORT_KEYS)) return DEFAULT_SORT;
  return { key: key as SortKey, ascending: direction !== 'desc' };
}

export function formatSort(sort: ModelSort): string {
  return `${sort.key}~${sort.ascending ? 'asc' : 'desc'}`;
}

/** MLflow's order_by; names break ties so pages are stable. */
export function orderBy(sort: ModelSort): string[] {
  const main = `${SORT_KEYS[sort.key]} ${sort.ascending ? 'ASC' : 'DESC'}`;
  return sort.key === 'name' ? [main] : [main, 'name ASC'];
}

export type VersionFiles =
  | { kind: 'logged-model'; modelId: string }
  | { kind: 'run'; runId: string; prefix: string }
  | { kind: 'none' };

/**
 * Where to browse a version's files: its logged model (MLflow 3), or the run folder its source
 * names (`runs:/<run>/<path>`, or a run's artifact URI `.../<run_id>/artifacts/<path>`).
 */
export function versionFiles(version: Pick<ModelVersion, 'model_id' | 'source' | 'run_id'>): VersionFiles {
  const source = version.source ?? '';
  const loggedModel = /^models:\/(m-[0-9a-f]+)\/?$/.exec(source);
  if (version.model_id || loggedModel) return { kind: 'logged-model', modelId: version.model_id || (loggedModel?.[1] ?? '') };
  const runs = /^runs:\/([^/]+)\/?(.*)$/.exec(source);
  if (runs?.[1]) return { kind: 'run', runId: runs[1], prefix: trimSlashes(runs[2] ?? '') };
  if (version.run_id) {
    const marker = `/${version.run_id}/artifacts`;
    const at = source.indexOf(marker);
    if (at >= 0) return { kind: 'run', runId: version.run_id, prefix: trimSlashes(source.slice(at + marker.length)) };
  }
  return { kind: 'none' };
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
