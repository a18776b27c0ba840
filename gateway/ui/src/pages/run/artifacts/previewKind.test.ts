import { describe, expect, it } from 'vitest';
import { looksLikeText, prettyJson, previewKindOf } from './previewKind';

describe('previewKindOf', () => {
  it('picks a preview from the file name', () => {
    expect(previewKindOf('model/MLmodel')).toBe('text');
    expect(previewKindOf('conda.yaml')).toBe('text');
    expect(previewKindOf('a/b/metrics.json')).toBe('json');
    expect(previewKindOf('preds.CSV')).toBe('csv');
    expect(previewKindOf('plot.png')).toBe('image');
    expect(previewKindOf('model.pkl')).toBe('binary');
    expect(previewKindOf('mystery')).toBe('unknown');
    expect(previewKindOf('page.html')).toBe('text');
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
