// What CPython 3.11 checks inside a string literal token once the tokenizer
// has delimited it (Parser/string_parser.c): bytes must be ASCII, escapes
// must decode, and f-strings are scanned by the 3.11 rules (no backslash or
// '#' in expressions, quotes cannot nest, conversion must be !s/!r/!a, format
// specs nest at most two levels). The f-string expressions themselves are
// collected for the caller, which checks them as `(expression)`, as CPython does.

import { isCharacterName } from './unicode.ts';

export interface FStringExpr {
  /** Source offsets of the expression text between '{' and its terminator. */
  start: number;
  end: number;
  line: number;
}

export interface StringCheck {
  bytes: boolean;
  error: { message: string; offset: number; line: number } | null;
  /** An f-string's body [start, end): checked here, its expressions by the caller. */
  fstringBody?: [number, number];
}

const HEX = /^[0-9a-fA-F]$/;

function isHexAt(src: string, k: number, end: number): boolean {
  return k < end && HEX.test(src[k]);
}

// The next backslash in [k, b), or -1; bounded, so many short literals on one
// long line stay linear.
function nextBackslash(src: string, k: number, b: number): number {
  for (; k < b; k++) if (src.charCodeAt(k) === 0x5c) return k;
  return -1;
}

/**
 * The unicode-escape decoder's errors for a non-raw str segment [a, b), or
 * null. "\N{name}" names are looked up in Unicode 14.0's names and aliases.
 */
function unicodeEscapeError(src: string, a: number, b: number): string | null {
  for (let k = nextBackslash(src, a, b); k >= 0; k = nextBackslash(src, k, b)) {
    const c = src[k + 1];
    const pos = k - a;
    if (k + 1 >= b) return null;
    if (c === 'x' || c === 'u' || c === 'U') {
      const digits = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      let d = 0;
      while (d < digits && isHexAt(src, k + 2 + d, b)) d++;
      if (d < digits) {
        const what = c === 'x' ? '\\xXX' : c === 'u' ? '\\uXXXX' : '\\UXXXXXXXX';
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + 1 + d}: truncated ${what} escape`;
      }
      if (c === 'U' && parseInt(src.slice(k + 2, k + 10), 16) > 0x10ffff) {
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + 9}: illegal Unicode character`;
      }
      k += 2 + digits;
    } else if (c === 'N') {
      let close = -1;
      if (src[k + 2] === '{') for (let j = k + 3; j < b && close < 0; j++) if (src.charCodeAt(j) === 0x7d) close = j;
      if (close < 0 || close === k + 3) {
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + 1}: malformed \\N character escape`;
      }
      if (!isCharacterName(src.slice(k + 3, close))) {
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + close - k}: unknown Unicode character name`;
      }
      k = close + 1;
    } else {
      k += 2;
    }
  }
  return null;
}

function bytesEscapeError(src: string, a: number, b: number): string | null {
  for (let k = nextBackslash(src, a, b); k >= 0; k = nextBackslash(src, k, b)) {
    if (src[k + 1] === 'x' && !(isHexAt(src, k + 2, b) && isHexAt(src, k + 3, b))) {
      return `(value error) invalid \\x escape at position ${k - a}`;
    }
    k += 2;
  }
  return null;
}

function failed(bytes: boolean, message: string, offset: number, line: number): StringCheck {
  return { bytes, error: { message, offset, line } };
}

/** Checks the STRING token src[start, end) that begins on `line`. */
export function checkStringToken(src: string, start: number, end: number, line: number, exprs: FStringExpr[]): StringCheck {
  let bytes = false;
  let raw = false;
  let fmode = false;
  let q = start;
  for (;; q++) {
    const c = src[q];
    if (c === 'b' || c === 'B') bytes = true;
    else if (c === 'r' || c === 'R') raw = true;
    else if (c === 'f' || c === 'F') fmode = true;
    else if (c !== 'u' && c !== 'U') break;
  }
  const triple = end - q >= 6 && src[q + 1] === src[q] && src[q + 2] === src[q];
  const bodyStart = q + (triple ? 3 : 1);
  const bodyEnd = end - (triple ? 3 : 1);

  if (bytes) {
    for (let k = bodyStart; k < bodyEnd; k++) {
      if (src.charCodeAt(k) >= 0x80) return failed(bytes, 'bytes can only contain ASCII literal characters', start, line);
    }
    const err = raw ? null : bytesEscapeError(src, bodyStart, bodyEnd);
    return err ? failed(bytes, err, start, line) : { bytes, error: null };
  }
  if (!fmode) {
    const err = raw ? null : unicodeEscapeError(src, bodyStart, bodyEnd);
    return err ? failed(bytes, err, start, line) : { bytes, error: null };
  }
  const err = new FStringScanner(src, bodyEnd, raw, line, start, exprs).scan(bodyStart);
  return err ? failed(bytes, err.message, err.offset, err.line) : { bytes, error: null, fstringBody: [bodyStart, bodyEnd] };
}

interface ScanError { message: string; offset: number; line: number }

// A port of fstring_find_literal / fstring_find_expr / FstringParser_ConcatFstring.
class FStringScanner {
  private s = 0;
  // Line bookkeeping moves forward with the scan, so it stays linear.
  private lineOffset: number;
  private lineCount: number;
  private nextNewline: number;

  constructor(
    private readonly src: string,
    private readonly end: number,
    private readonly raw: boolean,
    private readonly line: number,
    private readonly tokenStart: number,
    private readonly exprs: FStringExpr[],
  ) {
    this.lineOffset = tokenStart;
    this.lineCount = line;
    this.nextNewline = this.newlineFrom(tokenStart);
  }

  private newlineFrom(k: number): number {
    for (; k < this.end; k++) if (this.src.charCodeAt(k) === 0x0a) return k;
    return -1;
  }

  scan(bodyStart: number): ScanError | null {
    this.s = bodyStart;
    return this.concat(0);
  }

  private error(message: string): ScanError {
    return { message, offset: this.s, line: this.lineAt(this.s) };
  }

  private lineAt(offset: number): number {
    if (offset < this.lineOffset) {
      this.lineOffset = this.tokenStart;
      this.lineCount = this.line;
      this.nextNewline = this.newlineFrom(this.tokenStart);
    }
    while (this.nextNewline >= 0 && this.nextNewline < offset) {
      this.lineCount++;
      this.lineOffset = this.nextNewline + 1;
      this.nextNewline = this.newlineFrom(this.lineOffset);
    }
    return this.lineCount;
  }

  private concat(recurse: number): ScanError | null {
    const { src, end } = this;
    for (;;) {
      const lit = this.findLiteral(recurse);
      if (typeof lit === 'object') return lit;
      if (lit === 1) continue;
      if (this.s >= end || src[this.s] === '}') break;
      const err = this.findExpr(recurse);
      if (err) return err;
    }
    if (recurse !== 0 && (this.s >= end || src[this.s] !== '}')) return this.error("f-string: expecting '}'");
    return null;
  }

  /** 0: literal done; 1: a doubled brace, continue scanning; or an error. */
  private findLiteral(recurse: number): 0 | 1 | ScanError {
    const { src, end, raw } = this;
    let s = this.s;
    const literalStart = s;
    let result: 0 | 1 = 0;
    let literalEnd = -1;
    while (s < end) {
      let ch = src[s++];
      if (!raw && ch === '\\' && s < end) {
        ch = src[s++];
        if (ch === 'N') {
          // Skip "\N{...}" so its braces do not start an expression.
          if (s < end && src[s++] === '{') {
            while (s < end && src[s++] !== '}');
          }
          continue;
        }
      }
      if (ch === '{' || ch === '}') {
        if (recurse === 0) {
          if (s < end && src[s] === ch) {
            literalEnd = s;
            this.s = s + 1;
            result = 1;
            break;
          }
          if (ch === '}') {
            this.s = s - 1;
            return this.error("f-string: single '}' is not allowed");
          }
        }
        s--;
        break;
      }
    }
    if (result === 0) {
      this.s = s;
      literalEnd = s;
    }
    if (!raw && literalEnd > literalStart) {
      const err = unicodeEscapeError(src, literalStart, literalEnd);
      if (err) return { message: err, offset: literalStart, line: this.lineAt(literalStart) };
    }
    return result;
  }

  private findExpr(recurse: number): ScanError | null {
    const { src, end } = this;
    if (recurse >= 2) return this.error('f-string: expressions nested too deeply');
    this.s++;
    const exprStart = this.s;
    let quote = '';
    let triple = false;
    const stack: string[] = [];
    for (; this.s < end; this.s++) {
      const ch = src[this.s];
      if (ch === '\\') return this.error('f-string expression part cannot include a backslash');
      if (quote) {
        if (ch === quote) {
          if (triple) {
            if (this.s + 2 < end && src[this.s + 1] === ch && src[this.s + 2] === ch) {
              this.s += 2;
              quote = '';
            }
          } else {
            quote = '';
          }
        }
        continue;
      }
      if (ch === "'" || ch === '"') {
        triple = this.s + 2 < end && src[this.s + 1] === ch && src[this.s + 2] === ch;
        if (triple) this.s += 2;
        quote = ch;
      } else if (ch === '[' || ch === '{' || ch === '(') {
        if (stack.length >= 200) return this.error('f-string: too many nested parenthesis');
        stack.push(ch);
      } else if (ch === '#') {
        return this.error("f-string expression part cannot include '#'");
      } else if (stack.length === 0 && (ch === '!' || ch === ':' || ch === '}' || ch === '=' || ch === '>' || ch === '<')) {
        const next = this.s + 1 < end ? src[this.s + 1] : '';
        if (next === '=' && (ch === '!' || ch === '=' || ch === '<' || ch === '>')) {
          this.s++;
          continue;
        }
        if (ch === '>' || ch === '<') continue;
        break;
      } else if (ch === ']' || ch === '}' || ch === ')') {
        if (stack.length === 0) return this.error(`f-string: unmatched '${ch}'`);
        const open = stack.pop();
        if (!((open === '(' && ch === ')') || (open === '[' && ch === ']') || (open === '{' && ch === '}'))) {
          return this.error(`f-string: closing parenthesis '${ch}' does not match opening parenthesis '${open}'`);
        }
      }
    }
    const exprEnd = this.s;
    if (quote) return this.error('f-string: unterminated string');
    if (stack.length) return this.error(`f-string: unmatched '${stack[stack.length - 1]}'`);
    if (this.s >= end) return this.error("f-string: expecting '}'");
    if (/^[ \t\n\f]*$/.test(src.slice(exprStart, exprEnd))) {
      const c = src[exprEnd];
      return this.error(
        c === '!' || c === ':' || c === '='
          ? `f-string: expression required before '${c}'`
          : 'f-string: empty expression not allowed',
      );
    }
    this.exprs.push({ start: exprStart, end: exprEnd, line: this.lineAt(exprStart) });

    if (src[this.s] === '=') {
      this.s++;
      while (this.s < end && ' \t\n\r\f\v'.includes(src[this.s])) this.s++;
      if (this.s >= end) return this.error("f-string: expecting '}'");
    }
    if (src[this.s] === '!') {
      this.s++;
      if (this.s >= end) return this.error("f-string: expecting '}'");
      const conversion = src[this.s++];
      if (conversion !== 's' && conversion !== 'r' && conversion !== 'a') {
        return this.error("f-string: invalid conversion character: expected 's', 'r', or 'a'");
      }
    }
    if (this.s < end && src[this.s] === ':') {
      this.s++;
      if (this.s >= end) return this.error("f-string: expecting '}'");
      const err = this.concat(recurse + 1);
      if (err) return err;
    }
    if (this.s >= end || src[this.s] !== '}') return this.error("f-string: expecting '}'");
    this.s++;
    return null;
  }
}
