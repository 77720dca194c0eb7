// f-strings as CPython 3.11 scans them (Parser/string_parser.c): no backslash
// or '#' in expressions, quotes cannot nest, conversion must be !s/!r/!a,
// format specs nest at most two levels. The expressions themselves are
// collected for the caller, which checks them as `(expression)`, as CPython does.

import { unicodeEscapeError } from './escapes.ts';

export interface FStringExpr {
  /** Source offsets of the expression text between '{' and its terminator. */
  start: number;
  end: number;
  line: number;
}

export interface ScanError { message: string; offset: number; line: number }

// A port of fstring_find_literal / fstring_find_expr / FstringParser_ConcatFstring.
export class FStringScanner {
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
    const exprError = this.scanExpression();
    if (exprError) return exprError;
    const exprEnd = this.s;
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

  // The expression part, up to the `!`, `:`, `=` or `}` that ends it outside
  // brackets and strings.
  private scanExpression(): ScanError | null {
    const { src, end } = this;
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
    if (quote) return this.error('f-string: unterminated string');
    if (stack.length) return this.error(`f-string: unmatched '${stack[stack.length - 1]}'`);
    if (this.s >= end) return this.error("f-string: expecting '}'");
    return null;
  }
}
