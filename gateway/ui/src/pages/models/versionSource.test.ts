import { describe, expect, it } from 'vitest';
import { stripPrefix, versionSource } from './versionSource';

describe("a version's artifact source", () => {
  it('shows run folder paths relative to the model folder', () => {
    expect(stripPrefix('model', 'model/MLmodel')).toBe('MLmodel');
    expect(stripPrefix('model', 'model/data/x.bin')).toBe('data/x.bin');
    expect(stripPrefix('model', 'modelx/MLmodel')).toBe('modelx/MLmodel');
    expect(stripPrefix('', 'MLmodel')).toBe('MLmodel');
  });

  it('downloads files through the registry route, and has none for foreign sources', () => {
    const source = versionSource({ name: 'my model', version: '2', source: 'runs:/r1/model', run_id: 'r1' });
    expect(source?.fileUrl('MLmodel')).toBe('model-versions/get-artifact?name=my+model&version=2&path=MLmodel');
    expect(versionSource({ name: 'm', version: '1', source: 's3://bucket/m' })).toBeUndefined();
  });
});
