// Splits a streamed trace body into the JSON text of its spans as the bytes arrive, so the first
// spans of a 30,000-span trace can be shown long before the whole body has been read or parsed.

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const COLON = 58;

/** Key paths of the span array in the bodies the UI reads: `traces/get` and `get-trace-artifact`. */
const SPAN_PATHS = new Set(['trace/spans', 'spans']);

/**
 * A resumable scanner over one JSON document. It tracks only nesting, strings and the keys on
 * the way down; each element of the span array is handed out as its own JSON text.
 */
export class SpanArrayScanner {
  private readonly stack: number[] = [];
  private readonly keys: (string | undefined)[] = [];
  private inString = false;
  private escaped = false;
  /** The string being read, when it may be a key (outside the spans); undefined otherwise. */
  private keyText: string | undefined;
  private lastString: string | undefined;
  /** Nesting depth of the span array's elements, or -1 while not inside it. */
  private spanDepth = -1;
  /** The start of the current span from earlier chunks, while one is open. */
  private spanPrefix: string | undefined;

  /** Feeds the next piece of text; returns the spans completed by it. */
  feed(chunk: string): string[] {
    const found: string[] = [];
    let spanStart = this.spanPrefix === undefined ? -1 : 0;
    let keyStart = this.keyText === undefined ? -1 : 0;
    const n = chunk.length;
    for (let i = 0; i < n; i += 1) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (keyStart >= 0) {
            this.lastString = (this.keyText ?? '') + chunk.slice(keyStart, i);
            this.keyText = undefined;
            keyStart = -1;
          }
        }
        continue;
      }
      const depth = this.stack.length;
      if (c === QUOTE) {
        this.inString = true;
        this.lastString = undefined;
        // Keys are only needed outside the spans; strings inside them are skipped cheaply.
        if (this.spanDepth < 0 && this.stack[depth - 1] === OPEN_OBJECT) {
          this.keyText = '';
          keyStart = i + 1;
        }
      } else if (c === COLON) {
        if (this.spanDepth < 0) this.keys[depth - 1] = this.lastString;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (this.spanDepth === depth && c === OPEN_OBJECT) {
          spanStart = i;
          this.spanPrefix = '';
        } else if (c === OPEN_ARRAY && this.spanDepth < 0 && SPAN_PATHS.has(this.pathTo(depth))) {
          this.spanDepth = depth + 1;
        }
        this.stack.push(c);
        this.keys[depth] = undefined;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.stack.pop();
        const now = this.stack.length;
        if (this.spanDepth === now && c === CLOSE_OBJECT && this.spanPrefix !== undefined) {
          found.push(this.spanPrefix + chunk.slice(spanStart, i + 1));
          this.spanPrefix = undefined;
          spanStart = -1;
        } else if (this.spanDepth === now + 1 && c === CLOSE_ARRAY) {
          this.spanDepth = -1;
        }
      }
    }
    if (this.spanPrefix !== undefined) this.spanPrefix += chunk.slice(Math.max(spanStart, 0));
    if (keyStart >= 0) this.keyText = (this.keyText ?? '') + chunk.slice(keyStart);
    return found;
  }

  private pathTo(depth: number): string {
    const parts: string[] = [];
    for (let d = 0; d < depth; d += 1) {
      if (this.stack[d] !== OPEN_OBJECT) return '';
      parts.push(this.keys[d] ?? '');
    }
    return parts.join('/');
  }
}
