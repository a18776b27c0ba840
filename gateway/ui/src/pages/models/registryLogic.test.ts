import { describe, expect, it } from 'vitest';
import { formatSort, modelFilter, orderBy, parseSort, quote, versionFiles } from './registryLogic';

describe('model search', () => {
  it('turns a word into a case-insensitive name search', () => {
    expect(modelFilter('')).toBe('');
    expect(modelFilter(' churn ')).toBe("name ILIKE '%churn%'");
    expect(modelFilter("bob's")).toBe(`name ILIKE "%bob's%"`);
  });

  it('passes filter expressions through', () => {
    expect(modelFilter("name LIKE 'a%'")).toBe("name LIKE 'a%'");
    expect(modelFilter("tags.team = 'vision'")).toBe("tags.team = 'vision'");
  });

  it('quotes names for the filter grammar', () => {
    expect(quote('a')).toBe("'a'");
    expect(quote(`it's`)).toBe(`"it's"`);
    expect(quote(`it's "x"`)).toBe(`'it\\'s "x"'`);
  });

  it('reads and writes the sort, with names breaking ties', () => {
    expect(parseSort(null)).toEqual({ key: 'name', ascending: true });
    expect(parseSort('updated~desc')).toEqual({ key: 'updated', ascending: false });
    expect(parseSort('bogus~desc')).toEqual({ key: 'name', ascending: true });
    expect(formatSort({ key: 'created', ascending: true })).toBe('created~asc');
    expect(orderBy({ key: 'updated', ascending: false })).toEqual(['last_updated_timestamp DESC', 'name ASC']);
    expect(orderBy({ key: 'name', ascending: false })).toEqual(['name DESC']);
  });
});

describe("a version's files", () => {
  it('prefers the logged model', () => {
    expect(versionFiles({ model_id: 'm-abc', source: 'models:/m-abc', run_id: 'r1' })).toEqual({ kind: 'logged-model', modelId: 'm-abc' });
    expect(versionFiles({ source: 'models:/m-0f' })).toEqual({ kind: 'logged-model', modelId: 'm-0f' });
  });

  it('browses the run folder of runs:/ sources and run artifact URIs', () => {
    expect(versionFiles({ source: 'runs:/abc/model/' })).toEqual({ kind: 'run', runId: 'abc', prefix: 'model' });
    expect(versionFiles({ source: 'runs:/abc' })).toEqual({ kind: 'run', runId: 'abc', prefix: '' });
    expect(versionFiles({ source: 'mlflow-artifacts:/1/abc/artifacts/sk/model', run_id: 'abc' })).toEqual({ kind: 'run', runId: 'abc', prefix: 'sk/model' });
  });

  it('has nothing to browse for other sources', () => {
    expect(versionFiles({ source: 'models:/other/3' })).toEqual({ kind: 'none' });
    expect(versionFiles({ source: 's3://bucket/x', run_id: 'abc' })).toEqual({ kind: 'none' });
  });
});
