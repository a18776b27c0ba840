/** `1 run`, `2 runs`; `plural(n, 'entry', 'entries')` for irregular words. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
