// The chart view's layout in the URL: `charts` (ordered cards), `csize` (wide cards), `hide`
// (runs hidden from charts), `group`, `band`. Cards are `metric:<key>`, `scatter:<x>;<y>` or
// `parallel:<metric>`, joined with `|` so keys may contain commas.

export type Card =
  | { type: 'metric'; key: string }
  | { type: 'scatter'; x: string; y: string }
  | { type: 'parallel'; metric: string };

export type BandKind = 'std' | 'minmax' | 'median';
export const BANDS: readonly { id: BandKind; title: string }[] = [
  { id: 'std', title: 'mean ± std' },
  { id: 'minmax', title: 'mean, min–max' },
  { id: 'median', title: 'median, min–max' },
];

export function cardId(card: Card): string {
  switch (card.type) {
    case 'metric':
      return `metric:${card.key}`;
    case 'scatter':
      return `scatter:${card.x};${card.y}`;
    case 'parallel':
      return `parallel:${card.metric}`;
  }
}

function decodeCard(text: string): Card | undefined {
  const colon = text.indexOf(':');
  const type = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (!rest) return undefined;
  if (type === 'metric') return { type, key: rest };
  if (type === 'parallel') return { type, metric: rest };
  if (type === 'scatter') {
    const semi = rest.indexOf(';');
    return semi > 0 ? { type, x: rest.slice(0, semi), y: rest.slice(semi + 1) } : undefined;
  }
  return undefined;
}

export function decodeCards(text: string | null, metricKeys: readonly string[]): Card[] {
  if (text === null) return metricKeys.map((key) => ({ type: 'metric', key }));
  return text
    .split('|')
    .map(decodeCard)
    .filter((c): c is Card => c !== undefined);
}

export function encodeCards(cards: readonly Card[]): string {
  return cards.map(cardId).join('|');
}

/** Moves the card at `index` by `delta` places, staying in bounds. */
export function moveCard(cards: readonly Card[], index: number, delta: number): Card[] {
  const target = Math.min(Math.max(index + delta, 0), cards.length - 1);
  const next = [...cards];
  const [card] = next.splice(index, 1);
  if (card) next.splice(target, 0, card);
  return next;
}

/** `train/loss` is in section `train`; keys without a `/` are in the unnamed section. */
export function sectionOf(card: Card): string {
  const key = card.type === 'metric' ? card.key : card.type === 'parallel' ? '' : '';
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : '';
}

/** Cards split into sections in order of first appearance, keeping each card's index. */
export function sectionsOf(cards: readonly Card[]): { name: string; cards: { card: Card; index: number }[] }[] {
  const sections = new Map<string, { card: Card; index: number }[]>();
  cards.forEach((card, index) => {
    const name = sectionOf(card);
    const list = sections.get(name) ?? [];
    list.push({ card, index });
    sections.set(name, list);
  });
  return [...sections.entries()].map(([name, list]) => ({ name, cards: list }));
}

export function bandOf(text: string | null): BandKind {
  return BANDS.find((b) => b.id === text)?.id ?? 'std';
}
