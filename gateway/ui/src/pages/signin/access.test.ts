import { describe, expect, it } from 'vitest';
import { basicHeader, rankOf } from '../../api/auth';
import { indexGrants, levelsOf, lowest } from './access';
import { parseStored } from './session';

describe('levels on screen', () => {
  const grants = indexGrants(false, [
    { resource_type: 'experiment', resource_pattern: '1', permission: 'READ' },
    { resource_type: 'experiment', resource_pattern: '2', permission: 'MANAGE' },
    { resource_type: 'registered_model', resource_pattern: '1', permission: 'EDIT' },
  ]);

  it('takes the grant, else the default, and keeps resource types apart', () => {
    expect(levelsOf(grants, 'experiment', ['1', '2', '3'], 'NO_PERMISSIONS')).toEqual(['READ', 'MANAGE', 'NO_PERMISSIONS']);
    expect(levelsOf(grants, 'registered_model', ['1', '2'], 'READ')).toEqual(['EDIT', 'READ']);
    expect(levelsOf(grants, 'experiment', ['3'], undefined)).toEqual([undefined]);
  });

  it('gives an administrator MANAGE on everything', () => {
    expect(levelsOf(indexGrants(true, []), 'experiment', ['9'], 'NO_PERMISSIONS')).toEqual(['MANAGE']);
  });

  it('allows on several experiments only what all of them allow', () => {
    expect(lowest(['MANAGE', 'READ', 'EDIT'])).toBe('READ');
    expect(lowest([])).toBe('MANAGE');
    expect(rankOf('EDIT')).toBeGreaterThan(rankOf('USE'));
    expect(rankOf('NO_PERMISSIONS')).toBe(0);
  });
});

describe('session credentials', () => {
  it('encodes non-ASCII user names and passwords as UTF-8', () => {
    expect(basicHeader('admin', 'pw')).toBe(`Basic ${btoa('admin:pw')}`);
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(basicHeader('jürgen', 'ü').slice(6)), (c) => c.charCodeAt(0)));
    expect(decoded).toBe('jürgen:ü');
  });

  it('reads back only a well-formed stored session', () => {
    expect(parseStored(JSON.stringify({ secret: 'rst_x', tokenId: 4 }))).toEqual({ secret: 'rst_x', tokenId: 4 });
    expect(parseStored(JSON.stringify({ secret: 'rst_x' }))).toEqual({ secret: 'rst_x', tokenId: undefined });
    expect(parseStored(JSON.stringify({ secret: '' }))).toBeUndefined();
    expect(parseStored('{not json')).toBeUndefined();
    expect(parseStored(null)).toBeUndefined();
  });
});
