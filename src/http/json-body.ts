// JSON request bodies whose errors say where: Fastify's own JSON parser answers every malformed body
// with the same sentence, and Node 20's JSON.parse often gives no position either ("Unexpected token
// '}', ... is not valid JSON"). Fastify's parser still parses (it refuses __proto__ keys); on its
// failure alone the body is scanned once more to find where it stops being JSON. The scan is one loop
// over the text with a fixed-size stack, so a 32 MiB body costs one pass and no copies of it.
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../errors.ts';

/**
 * Deepest nesting the scan follows. No route reads a body nested more than ten levels; a deeper
 * invalid body is reported as too deep rather than followed.
 */
export const MAX_JSON_DEPTH = 1000;

/** Where `text` stops being JSON: the offset (text.length when it ends too early), 1-based line and column. */
export interface JsonFault {
  offset: number;
  line: number;
  column: number;
  /** The text nests deeper than MAX_JSON_DEPTH at `offset` (it may hold other faults further on). */
  tooDeep: boolean;
}

const OBJECT = 1;
const ARRAY = 2;

/**
 * An iterative reading of RFC 8259 that only tracks where it is. Containers open and close on an
 * explicit stack; after each value the innermost container says what may follow.
 */
class JsonScan {
  private i = 0;
  private readonly stack = new Uint8Array(MAX_JSON_DEPTH);
  private depth = 0;
  /** 1-based line of `i`, and where that line starts. */
  private line = 1;
  private lineStart = 0;
  constructor(private readonly text: string) {}

  /** The offset where the text first stops being JSON and whether depth is why, or undefined when it is JSON. */
  fault(): JsonFault | undefined {
    const t = this.text;
    // Each turn reads one value, then the separators and closers that follow it.
    for (;;) {
      this.space();
      const c = t.charCodeAt(this.i);
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (this.depth === MAX_JSON_DEPTH) return this.stop(true);
        this.stack[this.depth++] = c === 0x7b ? OBJECT : ARRAY;
        this.i++;
        this.space();
        const close = c === 0x7b ? 0x7d : 0x5d;
        if (t.charCodeAt(this.i) === close) {
          this.i++;
          this.depth--;
        } else if (c === 0x7b && !this.key()) {
          return this.stop();
        } else {
          continue;
        }
      } else if (!this.scalar(c)) {
        return this.stop();
      }
      // A value is complete: close containers until one continues with a comma.
      for (;;) {
        this.space();
        if (this.depth === 0) return this.i < t.length ? this.stop() : undefined;
        const inObject = this.stack[this.depth - 1] === OBJECT;
        const next = t.charCodeAt(this.i);
        if (next === 0x2c /* , */) {
          this.i++;
          if (inObject && !this.key()) return this.stop();
          break;
        }
        if (next !== (inObject ? 0x7d : 0x5d)) return this.stop();
        this.i++;
        this.depth--;
      }
    }
  }

  private stop(tooDeep = false): JsonFault {
    return { offset: this.i, line: this.line, column: this.i - this.lineStart + 1, tooDeep };
  }

  /** Skips white space, counting lines: outside white space a newline is never valid JSON. */
  private space(): void {
    const t = this.text;
    let i = this.i;
    let newlines = 0;
    let lastNewline = -1;
    for (let c = t.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = t.charCodeAt(++i)) {
      if (c === 0x0a) {
        newlines++;
        lastNewline = i;
      }
    }
    if (newlines > 0) {
      this.line += newlines;
      this.lineStart = lastNewline + 1;
    }
    this.i = i;
  }

  /** `"key" :` inside an object, leaving `i` at the value. */
  private key(): boolean {
    this.space();
    if (this.text.charCodeAt(this.i) !== 0x22 || !this.string()) return false;
    this.space();
    if (this.text.charCodeAt(this.i) !== 0x3a /* : */) return false;
    this.i++;
    return true;
  }

  private scalar(c: number): boolean {
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    return false;
  }

  private string(): boolean {
    const t = this.text;
    this.i++;
    for (;;) {
      const c = t.charCodeAt(this.i);
      if (Number.isNaN(c) || c < 0x20) return false;
      this.i++;
      if (c === 0x22) return true;
      if (c !== 0x5c /* \ */) continue;
      const e = t[this.i];
      if (e === 'u') {
        for (let k = 1; k <= 4; k++) {
          if (!isHex(t.charCodeAt(this.i + k))) {
            this.i += k;
            return false;
          }
        }
        this.i += 5;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        this.i++;
      } else {
        return false;
      }
    }
  }

  private digits(): boolean {
    const start = this.i;
    while (isDigit(this.text.charCodeAt(this.i))) this.i++;
    return this.i > start;
  }

  private number(): boolean {
    const t = this.text;
    if (t.charCodeAt(this.i) === 0x2d) this.i++;
    if (t.charCodeAt(this.i) === 0x30) this.i++;
    else if (!this.digits()) return false;
    if (t.charCodeAt(this.i) === 0x2e /* . */) {
      this.i++;
      if (!this.digits()) return false;
    }
    const e = t.charCodeAt(this.i);
    if (e === 0x65 || e === 0x45) {
      this.i++;
      const sign = t.charCodeAt(this.i);
      if (sign === 0x2b || sign === 0x2d) this.i++;
      if (!this.digits()) return false;
    }
    return true;
  }

  private literal(word: string): boolean {
    for (const ch of word) {
      if (this.text[this.i] !== ch) return false;
      this.i++;
    }
    return true;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Where `text` stops being JSON, or undefined when it is JSON. */
export function jsonErrorPosition(text: string): JsonFault | undefined {
  return new JsonScan(text).fault();
}

/** The 400 for a body that is not JSON, pointing at the spot. */
export function invalidJsonError(text: string): InvalidRequestError {
  const at = jsonErrorPosition(text);
  if (!at) return new InvalidRequestError('body is valid JSON but has a "__proto__" or "constructor.prototype" key, which is refused');
  const near = text.slice(Math.max(0, at.offset - 24), at.offset).replaceAll('\n', '\\n');
  const after = near === '' ? '' : `, after '${near}'`;
  if (at.tooDeep) {
    return new InvalidRequestError(`body is nested more than ${MAX_JSON_DEPTH} deep at line ${at.line}, column ${at.column}, and is not JSON the service reads (no route takes bodies nested that deep)`);
  }
  if (at.offset >= text.length) {
    return new InvalidRequestError(`body is not valid JSON: it ends at line ${at.line}, column ${at.column} before the JSON is complete (an unclosed bracket, brace or string?)${after}`);
  }
  return new InvalidRequestError(`body is not valid JSON: unexpected ${JSON.stringify(text[at.offset])} at line ${at.line}, column ${at.column}${after}`);
}

/** Replaces Fastify's application/json parser with the same one whose failures carry the position. */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser(app.initialConfig.onProtoPoisoning ?? 'error', app.initialConfig.onConstructorPoisoning ?? 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (err: (Error & { code?: string }) | null, value?: unknown) => {
      done(err?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? invalidJsonError(body as string) : err, value);
    });
  });
}
