import { describe, expect, it } from 'vitest';
import { queryString } from '../api/client';
import { nameContains, quoteLiteral, viewOf } from './filters';

describe('experiment name search', () => {
  it('builds an ILIKE filter and picks a quote the text lacks (the grammar has no escapes)', () => {
    expect(nameContains('  iris ')).toBe("name ILIKE '%iris%'");
    expect(nameContains("bob's")).toBe(`name ILIKE "%bob's%"`);
    expect(nameContains('   ')).toBe('');
    expect(quoteLiteral('plain')).toBe("'plain'");
  });

  it('maps unknown views to active', () => {
    expect(viewOf('deleted')).toBe('deleted');
    expect(viewOf('bogus')).toBe('active');
    expect(viewOf(null)).toBe('active');
  });
});

describe('GET query strings', () => {
  it('repeats keys for lists (run_ids=a&run_ids=b) and skips undefined', () => {
    expect(queryString({ run_ids: ['a', 'b'], metric_key: 'val loss', max_results: 2500, path: undefined })).toBe(
      '?run_ids=a&run_ids=b&metric_key=val+loss&max_results=2500',
    );
    expect(queryString({})).toBe('');
  });
});
