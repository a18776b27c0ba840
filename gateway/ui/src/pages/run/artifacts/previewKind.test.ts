import { describe, expect, it } from 'vitest';
import { jsonTable, looksLikeText, prettyJson, previewKindOf } from './previewKind';

describe('previewKindOf', () => {
  it('picks a preview from the file name', () => {
    expect(previewKindOf('model/MLmodel')).toBe('text');
    expect(previewKindOf('conda.yaml')).toBe('text');
    expect(previewKindOf('a/b/metrics.json')).toBe('json');
    expect(previewKindOf('preds.CSV')).toBe('csv');
    expect(previewKindOf('plot.png')).toBe('image');
    expect(previewKindOf('model.pkl')).toBe('binary');
    expect(previewKindOf('mystery')).toBe('unknown');
    expect(previewKindOf('page.html')).toBe('html');
    expect(previewKindOf('data/preds.parquet')).toBe('parquet');
  });
});

describe('content checks', () => {
  it('treats NUL bytes and invalid UTF-8 as binary', () => {
    expect(looksLikeText(new TextEncoder().encode('héllo\n'))).toBe(true);
    expect(looksLikeText(new Uint8Array([104, 0, 105]))).toBe(false);
    expect(looksLikeText(new Uint8Array([0xff, 0xfe, 0xfd, 0x41, 0x41, 0x41, 0x41, 0x41]))).toBe(false);
  });

  it('pretty-prints JSON and leaves other text alone', () => {
    expect(prettyJson('{"a":[1,2]}')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(prettyJson('{not json')).toBe('{not json');
  });
});

describe('jsonTable', () => {
  it("reads mlflow.log_table's columns/data and arrays of objects as tables", () => {
    expect(jsonTable('{"columns": ["a", "b"], "data": [[1, "x"], [2, null]]}')).toEqual([['a', 'b'], ['1', 'x'], ['2', '']]);
    expect(jsonTable('[{"a": 1}, {"b": {"c": 2}}]')).toEqual([['a', 'b'], ['1', ''], ['', '{"c":2}']]);
    expect(jsonTable('{"lr": 0.1}')).toBeUndefined();
    expect(jsonTable('not json')).toBeUndefined();
  });
});
