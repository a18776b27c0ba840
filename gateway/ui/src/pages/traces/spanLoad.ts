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
