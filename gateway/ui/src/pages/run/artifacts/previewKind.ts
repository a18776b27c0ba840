export type PreviewKind = 'image' | 'html' | 'csv' | 'json' | 'parquet' | 'text' | 'binary';

const IMAGE = new Set(['png', 'jpg', 'jpeg', 'gif', 'bmp', 'webp', 'svg']);
const TEXT = new Set([
  'txt', 'log', 'md', 'yaml', 'yml', 'py', 'toml', 'ini', 'cfg', 'conf', 'sh', 'sql', 'r', 'js', 'ts',
  'xml', 'requirements', 'lock', 'properties', 'env', 'gitignore',
]);
const TEXT_NAMES = new Set(['MLmodel', 'MLproject', 'Dockerfile', 'LICENSE', 'README', 'requirements.txt']);
const BINARY = new Set(['pkl', 'pickle', 'bin', 'pt', 'pth', 'onnx', 'h5', 'npy', 'npz', 'zip', 'gz', 'tar', 'joblib', 'so', 'whl']);

function extensionOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** How a file is previewed, decided from its name (the bytes decide for unknown names). */
export function previewKindOf(path: string): PreviewKind | 'unknown' {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const ext = extensionOf(path);
  if (TEXT_NAMES.has(name)) return 'text';
  if (IMAGE.has(ext)) return 'image';
  if (ext === 'html' || ext === 'htm') return 'html';
  if (ext === 'csv' || ext === 'tsv') return 'csv';
  if (ext === 'json' || ext === 'jsonl') return 'json';
  if (ext === 'parquet' || ext === 'pq') return 'parquet';
  if (TEXT.has(ext)) return 'text';
  if (BINARY.has(ext)) return 'binary';
  return 'unknown';
}

/** Bytes with NUL characters, or that are not valid UTF-8, are not shown as text. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, Math.max(0, bytes.length - 4)));
    return true;
  } catch {
    return false;
  }
}

export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const cell = (value: unknown): string => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/**
 * Rows of a JSON table: mlflow.log_table's `{"columns": [...], "data": [[...]]}` or an array of
 * flat objects; anything else is not a table.
 */
export function jsonTable(text: string): string[][] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const { columns, data } = value as { columns?: unknown; data?: unknown };
    if (Array.isArray(columns) && Array.isArray(data) && data.every(Array.isArray)) {
      return [columns.map(cell), ...(data as unknown[][]).map((row) => row.map(cell))];
    }
    return undefined;
  }
  if (Array.isArray(value) && value.length > 0 && value.every((r) => r && typeof r === 'object' && !Array.isArray(r))) {
    const rows = value as Record<string, unknown>[];
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return [keys, ...rows.map((r) => keys.map((k) => cell(r[k])))];
  }
  return undefined;
}
