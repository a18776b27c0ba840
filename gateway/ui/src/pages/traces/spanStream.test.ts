import { describe, expect, it } from 'vitest';
import { SpanArrayScanner } from './spanStream';

const spans = [
  { span_id: 'a', name: 'root {with} [brackets]', attributes: [{ key: 'k', value: { string_value: 'quote " and \\ backslash }' } }] },
  { span_id: 'b', parent_span_id: 'a', name: 'child', events: [{ name: 'exception', attributes: [] }] },
  { span_id: 'c', parent_span_id: 'b', name: 'üñï©ødé ✓', attributes: { nested: { spans: [1, 2] } } },
];
const body = JSON.stringify({
  trace: { trace_info: { trace_id: 'tr-1', tags: { spans: '[{"not":"a span"}]' }, trace_metadata: { 'x{': '}]' } }, spans },
});

function scanInPieces(text: string, size: number): string[] {
  const scanner = new SpanArrayScanner();
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...scanner.feed(text.slice(i, i + size)));
  return out;
}

describe('SpanArrayScanner', () => {
  it('hands out each span of traces/get as its own JSON text', () => {
    const found = scanInPieces(body, body.length);
    expect(found.map((t) => JSON.parse(t))).toEqual(spans);
  });

  it('gives the same spans whatever the chunk boundaries', () => {
    for (const size of [1, 2, 3, 7, 13, 64]) {
      expect(scanInPieces(body, size).map((t) => JSON.parse(t))).toEqual(spans);
    }
  });

  it('ignores a "spans" key elsewhere and reads the traces.json shape', () => {
    const artifact = JSON.stringify({ spans, other: { spans: [{ x: 1 }] } });
    expect(scanInPieces(artifact, 5).map((t) => JSON.parse(t))).toEqual(spans);
  });

  it('finds nothing in a body without spans', () => {
    expect(scanInPieces(JSON.stringify({ trace: { trace_info: { trace_id: 'x' } } }), 4)).toEqual([]);
    expect(scanInPieces(JSON.stringify({ trace: { trace_info: {}, spans: [] } }), 4)).toEqual([]);
  });

  it('returns spans as soon as they are complete, not at the end', () => {
    const scanner = new SpanArrayScanner();
    const cut = body.indexOf('"span_id":"b"');
    expect(scanner.feed(body.slice(0, cut)).length).toBe(1);
    expect(scanner.feed(body.slice(cut)).length).toBe(2);
  });
});
