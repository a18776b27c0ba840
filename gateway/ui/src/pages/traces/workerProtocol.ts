import type { SpanDetail } from './spanJson';
import type { SpanRow } from './spanTree';

export type WorkerRequest = { type: 'load'; url: string } | { type: 'detail'; id: string; requestId: number };

export type WorkerReply =
  | { type: 'page'; rows: SpanRow[] }
  | { type: 'done'; total: number }
  | { type: 'error'; status: number; code: string; message: string }
  | { type: 'detail'; requestId: number; detail: SpanDetail | undefined };
