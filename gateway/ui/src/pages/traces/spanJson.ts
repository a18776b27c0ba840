// Reads one span as MLflow serves it: OTLP proto-JSON in `traces/get` (attributes as a KeyValue
// list of AnyValues, ids in base64, nanoseconds as strings) or MLflow's own dict form in
// `traces.json` (attributes as an object of JSON-encoded strings). Both become the same shape.
import type { SpanRow } from './spanTree';

export interface SpanEvent {
  name: string;
  timeMs: number;
  attributes: Record<string, unknown>;
}

export interface SpanDetail {
  row: SpanRow;
  statusCode: string;
  statusMessage: string;
  inputs: unknown;
  outputs: unknown;
  attributes: Record<string, unknown>;
  events: SpanEvent[];
}

interface RawSpan {
  span_id?: string;
  parent_span_id?: string | null;
  name?: string;
  start_time_unix_nano?: string | number | null;
  end_time_unix_nano?: string | number | null;
  attributes?: unknown;
  events?: { name?: string; time_unix_nano?: string | number | null; attributes?: unknown }[];
  status?: { code?: string | number; message?: string };
}

/** Nanoseconds since the epoch (too big for a double) as milliseconds with fractions. */
export function nanosToMs(value: string | number | null | undefined): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number') return value / 1e6;
  if (value.length <= 6) return Number(value) / 1e6;
  return Number(value.slice(0, -6)) + Number(value.slice(-6)) / 1e6;
}

function anyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if ('string_value' in v) return v.string_value;
  if ('int_value' in v) return Number(v.int_value);
  if ('double_value' in v) return v.double_value;
  if ('bool_value' in v) return v.bool_value;
  if ('bytes_value' in v) return v.bytes_value;
  if ('array_value' in v) return ((v.array_value as { values?: unknown[] }).values ?? []).map(anyValue);
  if ('kvlist_value' in v) return attributesOf((v.kvlist_value as { values?: unknown[] }).values ?? []);
  return value;
}

/** MLflow stores its span attributes as JSON text; those are decoded, plain strings kept. */
function decoded(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const first = value.charCodeAt(0);
  // Only text that looks like JSON is tried: `"…"`, `{`, `[`, digits, true/false/null.
  if (value === '' || !(first === 34 || first === 123 || first === 91 || first === 45 || (first >= 48 && first <= 57) || value === 'true' || value === 'false' || value === 'null')) {
    return value;
  }
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export function attributesOf(raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(raw)) {
    for (const item of raw as { key?: string; value?: unknown }[]) {
      if (item && typeof item.key === 'string') out[item.key] = decoded(anyValue(item.value));
    }
  } else if (raw && typeof raw === 'object') {
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) out[key] = decoded(value);
  }
  return out;
}

function statusCode(code: string | number | undefined): string {
  if (code === 2 || code === 'STATUS_CODE_ERROR' || code === 'ERROR') return 'ERROR';
  if (code === 1 || code === 'STATUS_CODE_OK' || code === 'OK') return 'OK';
  return 'UNSET';
}

/** Hex form of an id served as base64 (proto-JSON bytes); hex ids are kept. */
export function hexId(id: string): string {
  if (/^(0x)?[0-9a-f]{16}$/i.test(id)) return id.replace(/^0x/i, '').toLowerCase();
  try {
    const bytes = atob(id);
    let hex = '';
    for (let i = 0; i < bytes.length; i += 1) hex += bytes.charCodeAt(i).toString(16).padStart(2, '0');
    return hex;
  } catch {
    return id;
  }
}

function typeOf(attributes: unknown): string {
  // Reading only the one attribute keeps the summary pass cheap for 30,000 spans.
  if (Array.isArray(attributes)) {
    const item = (attributes as { key?: string; value?: unknown }[]).find((a) => a?.key === 'mlflow.spanType');
    const value = decoded(anyValue(item?.value));
    return typeof value === 'string' ? value : '';
  }
  if (attributes && typeof attributes === 'object') {
    const value = decoded((attributes as Record<string, unknown>)['mlflow.spanType']);
    return typeof value === 'string' ? value : '';
  }
  return '';
}

function hasException(raw: RawSpan): boolean {
  return (raw.events ?? []).some((e) => e?.name === 'exception');
}

export function rowOf(raw: RawSpan): SpanRow {
  const startMs = nanosToMs(raw.start_time_unix_nano);
  const end = nanosToMs(raw.end_time_unix_nano);
  return {
    id: hexId(raw.span_id ?? ''),
    parentId: raw.parent_span_id ? hexId(raw.parent_span_id) : '',
    name: raw.name ?? '',
    type: typeOf(raw.attributes),
    startMs,
    // A span still running has no end yet; it is drawn up to its start.
    endMs: end > 0 ? end : startMs,
    error: statusCode(raw.status?.code) === 'ERROR' || hasException(raw),
  };
}

export function detailOf(raw: RawSpan): SpanDetail {
  const attributes = attributesOf(raw.attributes);
  const inputs = attributes['mlflow.spanInputs'];
  const outputs = attributes['mlflow.spanOutputs'];
  delete attributes['mlflow.spanInputs'];
  delete attributes['mlflow.spanOutputs'];
  return {
    row: rowOf(raw),
    statusCode: statusCode(raw.status?.code),
    statusMessage: raw.status?.message ?? '',
    inputs,
    outputs,
    attributes,
    events: (raw.events ?? []).map((e) => ({ name: e.name ?? '', timeMs: nanosToMs(e.time_unix_nano), attributes: attributesOf(e.attributes) })),
  };
}
