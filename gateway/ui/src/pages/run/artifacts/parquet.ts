// The first rows of a Parquet artifact, read in the browser with hyparquet. A server that
// honours HTTP ranges is read by range (the footer, then only the first row group's pages); one
// that answers the whole file is read up to MAX_DOWNLOAD bytes, which must then hold the file.
import type { AsyncBuffer } from 'hyparquet';
import { fetchBytes } from '../../../api/client';

export const PREVIEW_ROWS = 100;
const MAX_DOWNLOAD = 32 * 1024 * 1024;
/** The footer probe: a Parquet footer (schema, row groups) usually fits in this. */
const TAIL = 64 * 1024;

export interface ParquetPreview {
  /** Header row, then up to PREVIEW_ROWS rows, as text. */
  rows: string[][];
  totalRows: number;
  /** True when only byte ranges of the file were read. */
  ranged: boolean;
}

function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A file read by range, the probed tail kept so the footer is not fetched twice. */
function rangedFile(url: string, size: number, tail: Uint8Array, signal: AbortSignal): AsyncBuffer {
  const tailStart = size - tail.length;
  return {
    byteLength: size,
    slice: async (start: number, end = size) => {
      if (start >= tailStart) return toBuffer(tail.subarray(start - tailStart, end - tailStart));
      const { bytes } = await fetchBytes(url, end - start, signal, { Range: `bytes=${start}-${end - 1}` });
      return toBuffer(bytes);
    },
  };
}

async function openFile(url: string, signal: AbortSignal): Promise<{ file: AsyncBuffer; ranged: boolean }> {
  const probe = await fetchBytes(url, MAX_DOWNLOAD, signal, { Range: `bytes=-${TAIL}` });
  const range = /\/(\d+)$/.exec(probe.headers?.get('Content-Range') ?? '');
  if (probe.status === 206 && range) return { file: rangedFile(url, Number(range[1]), probe.bytes, signal), ranged: true };
  const length = Number(probe.headers?.get('Content-Length') ?? Number.NaN);
  if (probe.truncated || probe.bytes.length < length) {
    throw new Error(`This Parquet file is larger than ${MAX_DOWNLOAD / 1024 / 1024} MB and the server does not serve byte ranges: download it to read it.`);
  }
  const whole = toBuffer(probe.bytes);
  return { file: { byteLength: whole.byteLength, slice: (start, end) => whole.slice(start, end) }, ranged: false };
}

/** A cell as text: 64-bit integers, dates, bytes and nested values included. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
}

export async function readParquetPreview(url: string, signal: AbortSignal): Promise<ParquetPreview> {
  // Loaded on first use: the reader is not part of the page's first download.
  const [{ parquetMetadataAsync, parquetReadObjects }, { file, ranged }] = await Promise.all([import('hyparquet'), openFile(url, signal)]);
  const metadata = await parquetMetadataAsync(file);
  const columns = metadata.schema.slice(1).filter((e) => !e.num_children).map((e) => e.name);
  const objects = await parquetReadObjects({ file, metadata, rowStart: 0, rowEnd: PREVIEW_ROWS, columns: undefined });
  const names = objects.length > 0 ? Object.keys(objects[0] as object) : columns;
  return {
    rows: [names, ...objects.map((row) => names.map((name) => cellText(row[name])))],
    totalRows: Number(metadata.num_rows),
    ranged,
  };
}
