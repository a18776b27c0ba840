import { describe, expect, it } from 'vitest';
import { barOf, spanDuration, SpanTree, type SpanRow } from './spanTree';

const span = (id: string, parentId: string, startMs: number, endMs = startMs + 1): SpanRow => ({ id, parentId, name: id, type: '', startMs, endMs, error: false });
const names = (tree: SpanTree, collapsed: ReadonlySet<string> = new Set()): string[] => tree.visible(collapsed).map((r) => `${'.'.repeat(r.depth)}${r.node.span.id}`);

describe('SpanTree', () => {
  it('orders children by start time, depth first', () => {
    const tree = new SpanTree();
    tree.add([span('root', '', 0, 10), span('b', 'root', 5), span('a', 'root', 1), span('a1', 'a', 2)]);
    expect(names(tree)).toEqual(['root', '.a', '..a1', '.b']);
    expect(tree.minStart).toBe(0);
    expect(tree.maxEnd).toBe(10);
  });

  it('shows children that arrive before their parent at the top, then moves them under it', () => {
    const tree = new SpanTree();
    tree.add([span('child', 'parent', 3), span('grandchild', 'child', 4)]);
    expect(names(tree)).toEqual(['child', '.grandchild']);
    tree.add([span('parent', 'root', 2)]);
    expect(names(tree)).toEqual(['parent', '.child', '..grandchild']);
    tree.add([span('root', '', 1)]);
    expect(names(tree)).toEqual(['root', '.parent', '..child', '...grandchild']);
    expect(tree.size).toBe(4);
  });

  it('adds pages incrementally and ignores repeated spans', () => {
    const tree = new SpanTree();
    tree.add([span('root', '', 0)]);
    tree.add([span('x', 'root', 2), span('root', '', 0)]);
    tree.add([span('w', 'root', 1)]);
    expect(names(tree)).toEqual(['root', '.w', '.x']);
  });

  it('finds spans by name or type in tree order, collapsed or not', () => {
    const tree = new SpanTree();
    tree.add([span('root', '', 0), { ...span('llm-b', 'root', 3), type: 'LLM' }, span('tool-a', 'root', 1), span('call-llm', 'tool-a', 2)]);
    expect(tree.find('LLM')).toEqual(['call-llm', 'llm-b']);
    expect(tree.find('')).toEqual([]);
    expect(tree.find('nothing')).toEqual([]);
  });

  it('hides the descendants of collapsed spans and lists ancestors to expand', () => {
    const tree = new SpanTree();
    tree.add([span('root', '', 0), span('a', 'root', 1), span('a1', 'a', 2), span('b', 'root', 3)]);
    expect(names(tree, new Set(['a']))).toEqual(['root', '.a', '.b']);
    expect(names(tree, new Set(['root']))).toEqual(['root']);
    expect(tree.ancestors('a1')).toEqual(['a', 'root']);
  });

  it('builds a 30,000-span tree and its rows quickly, deep or wide', () => {
    const wide = new SpanTree();
    const rows: SpanRow[] = [span('s0', '', 0, 30000)];
    for (let i = 1; i < 30000; i += 1) rows.push(span(`s${i}`, `s${Math.floor((i - 1) / 10)}`, i));
    const deep = new SpanTree();
    const chain: SpanRow[] = [span('d0', '', 0)];
    for (let i = 1; i < 30000; i += 1) chain.push(span(`d${i}`, `d${i - 1}`, i));
    const t0 = performance.now();
    for (let i = rows.length; i > 0; i -= 5000) wide.add(rows.slice(Math.max(0, i - 5000), i));
    deep.add(chain);
    expect(wide.visible(new Set()).length).toBe(30000);
    expect(deep.visible(new Set()).length).toBe(30000);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('barOf', () => {
  it('places a span within the trace time range', () => {
    expect(barOf(span('x', '', 25, 75), 0, 100)).toEqual({ left: 0.25, width: 0.5 });
    expect(barOf(span('x', '', 0, 0), 0, 0)).toEqual({ left: 0, width: 1 });
    expect(barOf(span('x', '', 90, 200), 0, 100)).toEqual({ left: 0.9, width: expect.closeTo(0.1, 6) as number });
  });
});

describe('spanDuration', () => {
  it('keeps sub-millisecond precision for short spans', () => {
    expect([0.4, 3.25, 522.4, 1500, 30_000, 95_000].map(spanDuration)).toEqual(['0.40ms', '3.3ms', '522ms', '1.50s', '30.0s', '1m 35s']);
  });
});
