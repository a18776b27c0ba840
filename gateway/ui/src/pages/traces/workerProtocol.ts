import type { SpanDetail } from './spanJson';
import type { SpanRow } from './spanTree';

/**
 * The body arrives as a transferred stream: the main thread fetched it (with its credentials)
 * and already read `prefix` from it while deciding whether the trace was small.
 */
export type WorkerRequest =
  | { type: 'stream'; prefix: Uint8Array[]; body: ReadableStream<Uint8Array> }
  | { type: 'detail'; id: string; requestId: number };

export type WorkerReply =
  | { type: 'page'; rows: SpanRow[] }
  | { type: 'done'; total: number }
  | { type: 'error'; message: string }
  | { type: 'detail'; requestId: number; detail: SpanDetail | undefined };
