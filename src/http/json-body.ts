// JSON request bodies whose errors say where: Fastify's own JSON parser answers every malformed body
// with the same sentence, and Node 20's JSON.parse often gives no position either ("Unexpected token
// '}', ... is not valid JSON"). Fastify's parser still parses (it refuses __proto__ keys); on its
// failure alone the body is scanned once more to find where it stops being JSON.
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../errors.ts';

/** Thrown inside the scan: the offset of the first character that cannot continue the JSON text. */
class Stop {
  constructor(readonly at: number) {}
}

/**
 * A recursive-descent reading of RFC 8259 that only tracks where it is: `offset` is where the text
 * first stops being JSON (text.length when it ends too early), or undefined when it is valid JSON.
 */
class JsonScan {
  private i = 0;
  constructor(private readonly text: string) {}

  offset(): number | undefined {
    try {
      this.value();
      this.space();
      if (this.i < this.text.length) throw new Stop(this.i);
      return undefined;
    } catch (err) {
      if (err instanceof Stop) return err.at;
      throw err;
    }
  }

  private space(): void {
    while (' \t\n\r'.includes(this.text[this.i] ?? 'x')) this.i++;
  }

  private expect(char: string): void {
    if (this.text[this.i] !== char) throw new Stop(this.i);
    this.i++;
  }

  private value(): void {
    this.space();
    const c = this.text[this.i];
    if (c === '{') this.object();
    else if (c === '[') this.array();
    else if (c === '"') this.string();
    else if (c === '-' || (c >= '0' && c <= '9')) this.number();
    else if (c === 't') this.literal('true');
    else if (c === 'f') this.literal('false');
    else if (c === 'n') this.literal('null');
    else throw new Stop(this.i);
  }

  private object(): void {
    this.i++;
    this.space();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.space();
      if (this.text[this.i] !== '"') throw new Stop(this.i);
      this.string();
      this.space();
      this.expect(':');
      this.value();
      this.space();
      if (this.text[this.i] === ',') this.i++;
      else return this.expect('}');
    }
  }

  private array(): void {
    this.i++;
    this.space();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.space();
      if (this.text[this.i] === ',') this.i++;
      else return this.expect(']');
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined || c < ' ') throw new Stop(this.i);
      this.i++;
      if (c === '"') return;
      if (c !== '\\') continue;
      const e = this.text[this.i];
      if (e === 'u') {
        for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(this.text[this.i + k] ?? '')) throw new Stop(this.i + k);
        this.i += 5;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        this.i++;
      } else {
        throw new Stop(this.i);
      }
    }
  }

  private digits(): void {
    const start = this.i;
    while (this.text[this.i] >= '0' && this.text[this.i] <= '9') this.i++;
    if (this.i === start) throw new Stop(this.i);
  }

  private number(): void {
    if (this.text[this.i] === '-') this.i++;
    if (this.text[this.i] === '0') this.i++;
    else this.digits();
    if (this.text[this.i] === '.') {
      this.i++;
      this.digits();
    }
    if (this.text[this.i] === 'e' || this.text[this.i] === 'E') {
      this.i++;
      if (this.text[this.i] === '+' || this.text[this.i] === '-') this.i++;
      this.digits();
    }
  }

  private literal(word: string): void {
    for (const ch of word) this.expect(ch);
  }
}

/** Where `text` stops being JSON (offset, 1-based line and column), or undefined when it is JSON. */
export function jsonErrorPosition(text: string): { offset: number; line: number; column: number } | undefined {
  let offset: number | undefined;
  try {
    offset = new JsonScan(text).offset();
  } catch {
    return undefined; // nested too deep for the scan's recursion: no position to give
  }
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { offset, line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/** The 400 for a body that is not JSON, pointing at the spot. */
export function invalidJsonError(text: string): InvalidRequestError {
  const at = jsonErrorPosition(text);
  if (!at) return new InvalidRequestError('body is valid JSON but has a "__proto__" or "constructor.prototype" key, which is refused');
  const near = text.slice(Math.max(0, at.offset - 24), at.offset).replaceAll('\n', '\\n');
  const after = near === '' ? '' : `, after '${near}'`;
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
