import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv';

describe('parseCsv', () => {
  it('handles quoted commas, doubled quotes, CRLF and a missing final newline', () => {
    const text = 'id,text\r\n1,"a, b"\r\n2,"say ""hi"""\n3,plain';
    expect(parseCsv(text, 100)).toEqual([
      ['id', 'text'],
      ['1', 'a, b'],
      ['2', 'say "hi"'],
      ['3', 'plain'],
    ]);
  });

  it('keeps newlines inside quoted fields and stops at maxRows', () => {
    expect(parseCsv('a\n"x\ny"\nz\n', 2)).toEqual([['a'], ['x\ny']]);
  });

  it('keeps empty fields', () => {
    expect(parseCsv('a,,c\n', 10)).toEqual([['a', '', 'c']]);
  });
});
