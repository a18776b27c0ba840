// A small markdown subset parsed into a tree; the renderer turns the tree into React
// elements, so no user text is ever interpreted as HTML.

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  | { type: 'link'; href: string; children: Inline[] };

export type Block =
  | { type: 'heading'; level: number; children: Inline[] }
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'list'; ordered: boolean; items: Inline[][] }
  | { type: 'quote'; children: Block[] }
  | { type: 'rule' };

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);

/** Only web, mail and relative links survive; `javascript:` and friends become plain text. */
export function safeHref(href: string): string | undefined {
  // Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
  const normalised = [...href].filter((c) => c.charCodeAt(0) > 0x20).join('');
  const scheme = SCHEME.exec(normalised)?.[1];
  if (scheme === undefined) return normalised ? href.trim() : undefined;
  return SAFE_SCHEMES.has(scheme.toLowerCase()) ? href.trim() : undefined;
}

const INLINE = /(`+)([\s\S]*?)\1|\*\*([\s\S]+?)\*\*|__([\s\S]+?)__|\*([^*\s][^*]*?)\*|_([^_\s][^_]*?)_|\[([^\]]*)\]\(([^)\s]*)\)/;

export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let rest = text;
  while (rest) {
    const match = INLINE.exec(rest);
    if (!match) {
      out.push({ type: 'text', text: rest });
      break;
    }
    if (match.index > 0) out.push({ type: 'text', text: rest.slice(0, match.index) });
    const [whole, , code, strong1, strong2, em1, em2, label, href] = match;
    if (code !== undefined) out.push({ type: 'code', text: code.trim() || code });
    else if (strong1 !== undefined || strong2 !== undefined) {
      out.push({ type: 'strong', children: parseInline(strong1 ?? strong2 ?? '') });
    } else if (em1 !== undefined || em2 !== undefined) {
      out.push({ type: 'em', children: parseInline(em1 ?? em2 ?? '') });
    } else if (label !== undefined && href !== undefined) {
      const safe = safeHref(href);
      if (safe) out.push({ type: 'link', href: safe, children: parseInline(label) });
      else out.push({ type: 'text', text: whole });
    }
    rest = rest.slice(match.index + whole.length);
  }
  return mergeText(out);
}

function mergeText(nodes: Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const node of nodes) {
    const last = out[out.length - 1];
    if (node.type === 'text' && last?.type === 'text') last.text += node.text;
    else out.push(node);
  }
  return out;
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const FENCE = /^\s*(```|~~~)/;

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  const line = (at: number): string => lines[at] ?? '';
  while (i < lines.length) {
    const current = line(i);
    if (!current.trim()) {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(current);
    if (fence) {
      const body: string[] = [];
      i += 1;
      while (i < lines.length && !line(i).trim().startsWith(fence[1] ?? '```')) body.push(line(i++));
      i += 1;
      blocks.push({ type: 'code', text: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(current);
    if (heading) {
      blocks.push({ type: 'heading', level: (heading[1] ?? '#').length, children: parseInline(heading[2] ?? '') });
      i += 1;
      continue;
    }
    if (RULE.test(current)) {
      blocks.push({ type: 'rule' });
      i += 1;
      continue;
    }
    if (current.trimStart().startsWith('>')) {
      const body: string[] = [];
      while (i < lines.length && line(i).trimStart().startsWith('>')) {
        body.push(line(i++).trimStart().slice(1).replace(/^ /, ''));
      }
      blocks.push({ type: 'quote', children: parseMarkdown(body.join('\n')) });
      continue;
    }
    const listPattern = BULLET.test(current) ? BULLET : NUMBERED.test(current) ? NUMBERED : undefined;
    if (listPattern) {
      const items: Inline[][] = [];
      while (i < lines.length && listPattern.test(line(i))) {
        items.push(parseInline(listPattern.exec(line(i++))?.[1] ?? ''));
      }
      blocks.push({ type: 'list', ordered: listPattern === NUMBERED, items });
      continue;
    }
    const body: string[] = [];
    while (
      i < lines.length &&
      line(i).trim() &&
      !HEADING.test(line(i)) &&
      !FENCE.test(line(i)) &&
      !BULLET.test(line(i)) &&
      !NUMBERED.test(line(i)) &&
      !line(i).trimStart().startsWith('>')
    ) {
      body.push(line(i++).trim());
    }
    blocks.push({ type: 'paragraph', children: parseInline(body.join(' ')) });
  }
  return blocks;
}
