// Column identifiers shared by the runs table and the server's order_by grammar.

export type ColumnKind = 'attribute' | 'param' | 'metric' | 'tag';

export interface ColumnId {
  kind: ColumnKind;
  key: string;
}

const PREFIX: Record<ColumnKind, string> = {
  attribute: 'attributes',
  param: 'params',
  metric: 'metrics',
  tag: 'tags',
};

const SHORT: Record<string, ColumnKind> = { attr: 'attribute', param: 'param', metric: 'metric', tag: 'tag' };
const SHORT_OF: Record<ColumnKind, string> = { attribute: 'attr', param: 'param', metric: 'metric', tag: 'tag' };

/** Compact URL form: `metric:acc`, `param:lr`, `attr:start_time`. */
export function encodeColumn(column: ColumnId): string {
  return `${SHORT_OF[column.kind]}:${column.key}`;
}

function decodeColumn(text: string): ColumnId | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const kind = SHORT[text.slice(0, colon)];
  const key = text.slice(colon + 1);
  return kind && key ? { kind, key } : undefined;
}

/** Columns are stored in the URL as a `|`-joined list so keys may contain commas. */
export function encodeColumns(columns: readonly ColumnId[]): string {
  return columns.map(encodeColumn).join('|');
}

export function decodeColumns(text: string): ColumnId[] {
  return text
    .split('|')
    .map(decodeColumn)
    .filter((c): c is ColumnId => c !== undefined);
}

/** Backtick-quotes keys that the bare-key grammar would not accept. */
export function quoteKey(key: string): string {
  return /^[A-Za-z0-9_.]+$/.test(key) ? key : `\`${key}\``;
}

export function identifierOf(column: ColumnId): string {
  return `${PREFIX[column.kind]}.${quoteKey(column.key)}`;
}

export interface Sort {
  column: ColumnId;
  ascending: boolean;
}

export function orderByOf(sort: Sort | undefined): string[] {
  if (!sort) return [];
  const field = sort.column.kind === 'attribute' ? sort.column.key : identifierOf(sort.column);
  return [`${field} ${sort.ascending ? 'ASC' : 'DESC'}`];
}

/** URL form: `metric:acc~desc`. */
export function encodeSort(sort: Sort): string {
  return `${encodeColumn(sort.column)}~${sort.ascending ? 'asc' : 'desc'}`;
}

export function decodeSort(text: string | null): Sort | undefined {
  if (!text) return undefined;
  const tilde = text.lastIndexOf('~');
  if (tilde < 0) return undefined;
  const column = decodeColumn(text.slice(0, tilde));
  const direction = text.slice(tilde + 1);
  if (!column || (direction !== 'asc' && direction !== 'desc')) return undefined;
  return { column, ascending: direction === 'asc' };
}
