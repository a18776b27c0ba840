// Reads a trace body stream and hands its spans out in pages: a small first page so the tree
// shows at once, then bigger ones so a 30,000-span trace costs few renders.
import { rowOf } from './spanJson';
import { SpanArrayScanner } from './spanStream';
import type { SpanRow } from './spanTree';

export const FIRST_PAGE = 200;
export const PAGE = 5000;
/** A page is also sent when this much time passed since the last one. */
export const PAGE_MS = 150;

export interface LoadSink {
  page: (rows: SpanRow[]) => void;
  /** Keeps the span's own text so its details can be read on demand. */
  keep: (id: string, text: string) => void;
}

/** Streams `body`, emitting pages of span rows; resolves with the number of spans read. */
export async function streamSpans(body: ReadableStream<Uint8Array>, sink: LoadSink, now: () => number = Date.now): Promise<number> {
  const scanner = new SpanArrayScanner();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let pending: SpanRow[] = [];
  let sent = 0;
  let lastSent = now();
  const flush = (): void => {
    if (pending.length === 0) return;
    sink.page(pending);
    sent += pending.length;
    pending = [];
    lastSent = now();
  };
  for (;;) {
    const { done, value } = await reader.read();
    const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
    for (const spanText of scanner.feed(text)) {
      const row = rowOf(JSON.parse(spanText) as Parameters<typeof rowOf>[0]);
      sink.keep(row.id, spanText);
      pending.push(row);
      if (pending.length >= (sent === 0 ? FIRST_PAGE : PAGE)) flush();
    }
    if (done) break;
    if (now() - lastSent >= PAGE_MS) flush();
  }
  flush();
  return sent;
}

/** A stream of `prefix` (chunks already read) followed by the rest of `rest`. */
export function prefixed(prefix: readonly Uint8Array[], rest: ReadableStream<Uint8Array> | undefined): ReadableStream<Uint8Array> {
  let index = 0;
  const reader = rest?.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index < prefix.length) {
        controller.enqueue(prefix[index] as Uint8Array);
        index += 1;
        return;
      }
      const next = reader ? await reader.read() : { done: true as const, value: undefined };
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader?.cancel(reason);
    },
  });
}

/**
 * Reads the start of a body, up to `limit` bytes: `done` says the whole body fit (a small trace,
 * cheaper to parse in place than to hand to a worker). The reader is released either way.
 */
export async function readHead(body: ReadableStream<Uint8Array>, limit: number): Promise<{ chunks: Uint8Array[]; done: boolean }> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) return { chunks, done: true };
      chunks.push(value);
      size += value.length;
    }
    return { chunks, done: false };
  } finally {
    reader.releaseLock();
  }
}
