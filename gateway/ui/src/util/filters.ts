import type { ViewType } from '../api/types';

/** The grammar has no escapes: pick a quote character the text does not contain. */
export function quoteLiteral(text: string): string {
  return text.includes("'") ? `"${text}"` : `'${text}'`;
}

export function nameContains(text: string): string {
  const trimmed = text.trim();
  return trimmed ? `name ILIKE ${quoteLiteral(`%${trimmed}%`)}` : '';
}

export type View = 'active' | 'deleted' | 'all';

export function viewOf(text: string | null): View {
  return text === 'deleted' || text === 'all' ? text : 'active';
}

export const VIEW_TYPE: Record<View, ViewType> = {
  active: 'ACTIVE_ONLY',
  deleted: 'DELETED_ONLY',
  all: 'ALL',
};
