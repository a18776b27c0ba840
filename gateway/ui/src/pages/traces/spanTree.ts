// The span tree, built incrementally: spans arrive in pages and in any order (a child may come
// before its parent), and the visible rows are recomputed from the tree without re-sorting it.

/** What the tree and the waterfall need of a span; its payload stays in the loader. */
export interface SpanRow {
  id: string;
  parentId: string;
  name: string;
  type: string;
  /** Milliseconds since the epoch, with sub-millisecond precision. */
  startMs: number;
  endMs: number;
  error: boolean;
}

export interface TreeNode {
  span: SpanRow;
  children: TreeNode[];
  /** Whether `children` is still in start-time order after the last insert. */
  sorted: boolean;
}

export interface VisibleRow {
  node: TreeNode;
  depth: number;
}

function byStart(a: TreeNode, b: TreeNode): number {
  return a.span.startMs - b.span.startMs || (a.span.id < b.span.id ? -1 : 1);
}

export class SpanTree {
  readonly roots: TreeNode[] = [];
  private rootsSorted = true;
  private readonly nodes = new Map<string, TreeNode>();
  /** Children that arrived before their parent, by the parent's id. */
  private readonly waiting = new Map<string, TreeNode[]>();
  minStart = Infinity;
  maxEnd = -Infinity;

  get size(): number {
    return this.nodes.size;
  }

  get(id: string): TreeNode | undefined {
    return this.nodes.get(id);
  }

  add(spans: readonly SpanRow[]): void {
    for (const span of spans) {
      if (this.nodes.has(span.id)) continue;
      const node: TreeNode = { span, children: this.waiting.get(span.id) ?? [], sorted: false };
      this.waiting.delete(span.id);
      this.nodes.set(span.id, node);
      if (span.startMs < this.minStart) this.minStart = span.startMs;
      if (span.endMs > this.maxEnd) this.maxEnd = span.endMs;
      const parent = span.parentId ? this.nodes.get(span.parentId) : undefined;
      if (parent) {
        parent.children.push(node);
        parent.sorted = false;
      } else if (span.parentId) {
        const list = this.waiting.get(span.parentId);
        if (list) list.push(node);
        else this.waiting.set(span.parentId, [node]);
      } else {
        this.roots.push(node);
        this.rootsSorted = false;
      }
    }
  }

  /**
   * Top-level rows: true roots first, then spans whose parent has not arrived (yet, or ever),
   * so nothing loaded is hidden while the rest of the trace streams in.
   */
  topLevel(): TreeNode[] {
    if (!this.rootsSorted) {
      this.roots.sort(byStart);
      this.rootsSorted = true;
    }
    if (this.waiting.size === 0) return this.roots;
    const orphans: TreeNode[] = [];
    for (const list of this.waiting.values()) orphans.push(...list);
    orphans.sort(byStart);
    return this.roots.concat(orphans);
  }

  /** Rows in depth-first order, descending only into expanded nodes (or all when `collapsed` is empty and `expandAll`). */
  visible(collapsed: ReadonlySet<string>): VisibleRow[] {
    const rows: VisibleRow[] = [];
    const stack: VisibleRow[] = [];
    const top = this.topLevel();
    for (let i = top.length - 1; i >= 0; i -= 1) stack.push({ node: top[i] as TreeNode, depth: 0 });
    while (stack.length > 0) {
      const row = stack.pop() as VisibleRow;
      rows.push(row);
      const { node } = row;
      if (node.children.length === 0 || collapsed.has(node.span.id)) continue;
      if (!node.sorted) {
        node.children.sort(byStart);
        node.sorted = true;
      }
      for (let i = node.children.length - 1; i >= 0; i -= 1) {
        stack.push({ node: node.children[i] as TreeNode, depth: row.depth + 1 });
      }
    }
    return rows;
  }

  /** Ids of the spans whose name or type contains `needle` (any case), in tree order. */
  find(needle: string): string[] {
    const lower = needle.toLowerCase();
    if (!lower) return [];
    return this.visible(new Set())
      .filter(({ node }) => node.span.name.toLowerCase().includes(lower) || node.span.type.toLowerCase().includes(lower))
      .map(({ node }) => node.span.id);
  }

  /** Ids of the ancestors of a span, nearest first (to expand the path to it). */
  ancestors(id: string): string[] {
    const out: string[] = [];
    let node = this.nodes.get(id);
    const seen = new Set<string>();
    while (node?.span.parentId && !seen.has(node.span.parentId)) {
      seen.add(node.span.parentId);
      out.push(node.span.parentId);
      node = this.nodes.get(node.span.parentId);
    }
    return out;
  }
}

/** Where a span's bar sits in the waterfall, as fractions of the trace's time range. */
export function barOf(span: SpanRow, minStart: number, maxEnd: number): { left: number; width: number } {
  const total = maxEnd - minStart;
  if (!(total > 0)) return { left: 0, width: 1 };
  const left = Math.min(Math.max((span.startMs - minStart) / total, 0), 1);
  const width = Math.min(Math.max((span.endMs - span.startMs) / total, 0), 1 - left);
  return { left, width };
}

/** A span's duration, with the sub-millisecond precision spans of LLM apps often need. */
export function spanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1) return `${ms.toFixed(2)}ms`;
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}
