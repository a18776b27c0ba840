import { describe, expect, it } from 'vitest';
import { FIRST_PAGE, PAGE, prefixed, readHead, streamSpans } from './spanLoad';
import type { SpanRow } from './spanTree';

function bodyStream(text: string, chunk: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) controller.close();
      else {
        controller.enqueue(bytes.subarray(offset, offset + chunk));
        offset += chunk;
      }
    },
  });
}

function traceBody(count: number): string {
  const spans = [];
  for (let i = 0; i < count; i += 1) {
    spans.push({ span_id: `${i.toString(16).padStart(16, '0')}`, parent_span_id: i ? '0000000000000000' : undefined, name: `s${i}`, start_time_unix_nano: i * 1000, end_time_unix_nano: i * 1000 + 500 });
  }
  return JSON.stringify({ trace: { trace_info: { trace_id: 'tr-x' }, spans } });
}

describe('streamSpans', () => {
  it('sends a small first page, then big pages, keeping every span text', async () => {
    const pages: SpanRow[][] = [];
    const kept = new Map<string, string>();
    const total = await streamSpans(bodyStream(traceBody(12000), 4096), { page: (rows) => pages.push(rows), keep: (id, text) => kept.set(id, text) }, () => 0);
    expect(total).toBe(12000);
    expect(pages[0]?.length).toBe(FIRST_PAGE);
    expect(Math.max(...pages.map((p) => p.length))).toBe(PAGE);
    expect(pages.flat().map((r) => r.name)).toEqual(Array.from({ length: 12000 }, (_, i) => `s${i}`));
    expect(kept.size).toBe(12000);
    expect(JSON.parse(kept.get('0000000000000005') ?? '{}')).toMatchObject({ name: 's5' });
  });

  it('sends what it has when time passes, so a slow body still shows early spans', async () => {
    const pages: number[] = [];
    let clock = 0;
    await streamSpans(bodyStream(traceBody(50), 256), { page: (rows) => pages.push(rows.length), keep: () => undefined }, () => (clock += 100));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(50);
  });

  it('handles multi-byte characters split across chunks', async () => {
    const body = JSON.stringify({ trace: { spans: [{ span_id: '0000000000000001', name: 'ünïcødé ✓ 漢字' }] } });
    const rows: SpanRow[] = [];
    await streamSpans(bodyStream(body, 3), { page: (r) => rows.push(...r), keep: () => undefined });
    expect(rows[0]?.name).toBe('ünïcødé ✓ 漢字');
  });
});

describe('readHead and prefixed', () => {
  it('says a small body was read whole, and hands a big one on with its head intact', async () => {
    const small = await readHead(bodyStream(traceBody(3), 64), 1 << 20);
    expect(small.done).toBe(true);
    const body = traceBody(2000);
    const stream = bodyStream(body, 1000);
    const head = await readHead(stream, 5000);
    expect(head.done).toBe(false);
    expect(head.chunks.length).toBe(5);
    const rows: SpanRow[] = [];
    const total = await streamSpans(prefixed(head.chunks, stream), { page: (r) => rows.push(...r), keep: () => undefined });
    expect(total).toBe(2000);
    expect(rows.map((r) => r.name)).toEqual(Array.from({ length: 2000 }, (_, i) => `s${i}`));
  });
});
