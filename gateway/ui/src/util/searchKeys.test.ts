import { describe, expect, it } from 'vitest';
import { decodeColumns, decodeSort, encodeColumns, encodeSort, identifierOf, orderByOf, quoteKey } from './searchKeys';

describe('order_by for the server', () => {
  it('uses bare attribute names and prefixed, quoted keys', () => {
    expect(orderByOf({ column: { kind: 'attribute', key: 'start_time' }, ascending: true })).toEqual(['start_time ASC']);
    expect(orderByOf({ column: { kind: 'metric', key: 'val loss' }, ascending: false })).toEqual(['metrics.`val loss` DESC']);
    expect(orderByOf({ column: { kind: 'param', key: 'optim.lr' }, ascending: true })).toEqual(['params.optim.lr ASC']);
    expect(orderByOf(undefined)).toEqual([]);
  });

  it('quotes only keys the bare grammar rejects', () => {
    expect(quoteKey('mlflow.runName')).toBe('mlflow.runName');
    expect(quoteKey('a-b')).toBe('`a-b`');
    expect(identifierOf({ kind: 'tag', key: 'my tag' })).toBe('tags.`my tag`');
  });
});

describe('URL encodings', () => {
  it('round-trips columns whose keys contain commas and colons', () => {
    const columns = [
      { kind: 'metric' as const, key: 'a,b' },
      { kind: 'param' as const, key: 'x:y' },
      { kind: 'attribute' as const, key: 'status' },
    ];
    expect(decodeColumns(encodeColumns(columns))).toEqual(columns);
  });

  it('round-trips sorts and rejects malformed ones', () => {
    const sort = { column: { kind: 'tag' as const, key: 'a~b' }, ascending: false };
    expect(decodeSort(encodeSort(sort))).toEqual(sort);
    expect(decodeSort('metric:acc~sideways')).toBeUndefined();
    expect(decodeSort('nonsense')).toBeUndefined();
    expect(decodeSort(null)).toBeUndefined();
  });
});
