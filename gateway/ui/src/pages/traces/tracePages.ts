// Pure list logic for the traces table: appending pages and merging a live-tail poll.
import type { TraceInfo } from '../../api/traces';

/** Appends a page, dropping traces already listed (offset pages shift when new traces arrive). */
export function appendPage(list: readonly TraceInfo[], page: readonly TraceInfo[]): TraceInfo[] {
  const seen = new Set(list.map((t) => t.trace_id));
  return list.concat(page.filter((t) => !seen.has(t.trace_id)));
}

/**
 * Merges the newest page (from a live-tail poll) into the list: traces not listed yet go on top
 * in the page's order, listed ones are replaced by their fresh copy (state, assessments, tags).
 */
export function mergeHead(list: readonly TraceInfo[], head: readonly TraceInfo[]): { traces: TraceInfo[]; added: number } {
  if (head.length === 0) return { traces: list as TraceInfo[], added: 0 };
  const fresh = new Map(head.map((t) => [t.trace_id, t]));
  const listed = new Set(list.map((t) => t.trace_id));
  const added = head.filter((t) => !listed.has(t.trace_id));
  const updated = list.map((t) => fresh.get(t.trace_id) ?? t);
  return { traces: added.length ? added.concat(updated) : updated, added: added.length };
}
