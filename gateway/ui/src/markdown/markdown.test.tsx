import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';
import { parseInline, parseMarkdown, safeHref } from './parse';

const html = (source: string): string => renderToStaticMarkup(<Markdown source={source} />);

describe('markdown subset', () => {
  it('parses headings, paragraphs, lists, code and quotes', () => {
    const blocks = parseMarkdown('# Title\n\nsome *text*\nmore\n\n- a\n- b\n\n1. one\n\n```\nx < y\n```\n> quoted\n\n---');
    expect(blocks.map((b) => b.type)).toEqual(['heading', 'paragraph', 'list', 'list', 'code', 'quote', 'rule']);
    expect(blocks[1]).toEqual({
      type: 'paragraph',
      children: [{ type: 'text', text: 'some ' }, { type: 'em', children: [{ type: 'text', text: 'text' }] }, { type: 'text', text: ' more' }],
    });
  });

  it('parses inline code, strong and links', () => {
    expect(parseInline('`a*b*` **bold** [site](https://example.com)')).toEqual([
      { type: 'code', text: 'a*b*' },
      { type: 'text', text: ' ' },
      { type: 'strong', children: [{ type: 'text', text: 'bold' }] },
      { type: 'text', text: ' ' },
      { type: 'link', href: 'https://example.com', children: [{ type: 'text', text: 'site' }] },
    ]);
  });

  it('renders raw HTML as text, never as markup', () => {
    const out = html('<img src=x onerror=alert(1)> <script>alert(2)</script>\n\n**<b>x</b>**');
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<script');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('<strong>&lt;b&gt;x&lt;/b&gt;</strong>');
  });

  it('drops script links but keeps web, mail and relative ones', () => {
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('JaVa\tScRiPt:alert(1)')).toBeUndefined();
    expect(safeHref('data:text/html,<script>')).toBeUndefined();
    expect(safeHref('vbscript:x')).toBeUndefined();
    expect(safeHref('https://a.b/c?d')).toBe('https://a.b/c?d');
    expect(safeHref('mailto:a@b.c')).toBe('mailto:a@b.c');
    expect(safeHref('#/experiments/1')).toBe('#/experiments/1');
    expect(safeHref('docs/readme.md')).toBe('docs/readme.md');
    const out = html('[click](javascript:alert(1)) [ok](https://x.y)');
    expect(out).not.toContain('javascript:alert(1)"');
    expect(out).toContain('<a href="https://x.y" target="_blank" rel="noopener noreferrer nofollow">ok</a>');
  });

  it('keeps code blocks verbatim', () => {
    expect(html('```\n<b>bold?</b>\n**no**\n```')).toBe('<div class="markdown"><pre><code>&lt;b&gt;bold?&lt;/b&gt;\n**no**</code></pre></div>');
  });
});
