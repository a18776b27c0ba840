export type PreviewKind = 'image' | 'csv' | 'json' | 'text' | 'binary';

const IMAGE = new Set(['png', 'jpg', 'jpeg', 'gif', 'bmp', 'webp', 'svg']);
const TEXT = new Set([
  'txt', 'log', 'md', 'yaml', 'yml', 'py', 'toml', 'ini', 'cfg', 'conf', 'sh', 'sql', 'r', 'js', 'ts',
  'html', 'htm', 'xml', 'requirements', 'lock', 'properties', 'env', 'gitignore',
]);
const TEXT_NAMES = new Set(['MLmodel', 'MLproject', 'Dockerfile', 'LICENSE', 'README', 'requirements.txt']);
const BINARY = new Set(['pkl', 'pickle', 'bin', 'pt', 'pth', 'onnx', 'h5', 'npy', 'npz', 'parquet', 'zip', 'gz', 'tar', 'joblib', 'so', 'whl']);

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
  if (ext === 'csv' || ext === 'tsv') return 'csv';
  if (ext === 'json' || ext === 'jsonl') return 'json';
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
