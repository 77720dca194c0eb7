// A port of CPython 3.11's tokenizer (Parser/tokenizer.c, tok_get) for the
// validity check: the lexical rules tree-sitter-python does not enforce.
// It reproduces the INDENT/DEDENT stack with CPython's tab rules (columns with
// tab size 8 and "alt" columns with tab size 1 must agree), implicit line
// joining in brackets, backslash continuations, string and number literal
// scanning, identifier validation and the tokenizer's limits (200 nested
// brackets, 100 indentation levels), with CPython's error messages.
//
// Input must already be normalised as CPython does for string sources:
// "\r\n" and "\r" turned into "\n", and a final "\n" appended.
import { hex4, invalidIdentifierChar, isDigit, isIdentChar, isIdentStart } from './chars.ts';
import { NumberScanner } from './numbers.ts';
import {
  AT, AUGASSIGN, BINOP, COLON, COLONEQUAL, COMMA, COMPARE, DEDENT, DOT, DOUBLESTAR, ELLIPSIS, ENDMARKER, EQUAL, INDENT,
  KW, LBRACE, LPAR, LSQB, NAME, NEWLINE, NOTEQUAL_LTGT, NUMBER, OP, PLUS_MINUS, RARROW, RBRACE, RPAR, RSQB, SEMI,
  SLASH, STAR, STRING, TILDE, TokenBuffer, UNKNOWN_OP, type SyntaxIssue, type TokenizeResult,
} from './tokens.ts';

const KEYWORDS = new Map<string, number>(Object.entries(KW));
const LONGEST_KEYWORD = 8;

const MAXINDENT = 100;
const MAXLEVEL = 200;
const TABSIZE = 8;

// Operators as PyToken_OneChar/TwoChars/ThreeChars, keyed by char codes so
// the scan allocates nothing per token.
const opKey = (op: string) => [...op].reduce((k, ch) => (k << 8) | ch.charCodeAt(0), 0);
const OPS3 = new Map<number, number>(
  ([['**=', AUGASSIGN], ['//=', AUGASSIGN], ['>>=', AUGASSIGN], ['<<=', AUGASSIGN], ['...', ELLIPSIS]] as const)
    .map(([op, code]) => [opKey(op), code]),
);
const OPS2 = new Map<number, number>(
  ([
    ['!=', COMPARE], ['%=', AUGASSIGN], ['&=', AUGASSIGN], ['**', DOUBLESTAR], ['*=', AUGASSIGN],
    ['+=', AUGASSIGN], ['-=', AUGASSIGN], ['->', RARROW], ['//', BINOP], ['/=', AUGASSIGN],
    [':=', COLONEQUAL], ['<<', BINOP], ['<=', COMPARE], ['<>', NOTEQUAL_LTGT], ['==', COMPARE],
    ['>=', COMPARE], ['>>', BINOP], ['@=', AUGASSIGN], ['^=', AUGASSIGN], ['|=', AUGASSIGN],
  ] as const).map(([op, code]) => [opKey(op), code]),
);
const OPS1 = new Uint8Array(128);
for (const [op, code] of Object.entries({
  '(': LPAR, ')': RPAR, '[': LSQB, ']': RSQB, '{': LBRACE, '}': RBRACE, ':': COLON, ',': COMMA,
  ';': SEMI, '.': DOT, '=': EQUAL, '*': STAR, '@': AT, '+': PLUS_MINUS, '-': PLUS_MINUS, '/': SLASH,
  '%': BINOP, '&': BINOP, '|': BINOP, '^': BINOP, '<': COMPARE, '>': COMPARE, '~': TILDE,
})) OPS1[op.charCodeAt(0)] = code;

export function tokenize(src: string): TokenizeResult {
  return new Lexer(src).run();
}

// The scan's methods return false when it stops: at the end of input, or
// with `error` set.
class Lexer {
  readonly tokens = new TokenBuffer();
  readonly joins: number[] = [];
  error: SyntaxIssue | null = null;
  private readonly n: number;
  private readonly numbers: NumberScanner;
  /** The scan position, and its physical line. */
  private i = 0;
  private lineNo = 1;
  /** At the beginning of a physical line: its indentation comes next. */
  private atbol = true;
  /** Indentation columns of the open blocks (tab size 8), and the same with tab size 1. */
  private readonly indstack = [0];
  private readonly altstack = [0];
  private indent = 0;
  /** INDENT (> 0) or DEDENT (< 0) tokens owed. */
  private pendin = 0;
  /** The open brackets' characters and lines. */
  private readonly parenChar: number[] = [];
  private readonly parenLine: number[] = [];
  private level = 0;

  constructor(private readonly src: string) {
    this.n = src.length;
    this.numbers = new NumberScanner(src);
  }

  run(): TokenizeResult {
    for (;;) {
      const blankline = this.atbol ? this.indentation() : false;
      if (this.error) break;
      this.pendingIndents();
      if (!this.token(blankline)) break;
    }
    return { tokens: this.tokens, error: this.error, joins: this.joins };
  }

  private at(k: number): number {
    return k < this.n ? this.src.charCodeAt(k) : -1;
  }

  private fail(message: string, offset: number, overrides: boolean, line = this.lineNo): false {
    this.error = { line, message, offset, overrides };
    return false;
  }

  /** A backslash at i joins the next line; i moves past the newline. */
  private continueLine(): boolean {
    const i = this.i;
    if (this.at(i + 1) !== 0x0a) return this.fail('unexpected character after line continuation character', i, false);
    this.joins.push(i, i + 2);
    this.i += 2;
    this.lineNo++;
    if (this.i >= this.n) return this.fail('unexpected EOF while parsing', this.i, false, this.lineNo - 1);
    return true;
  }

  /** Reads a physical line's indentation; returns whether the line is blank (or a comment). */
  private indentation(): boolean {
    this.atbol = false;
    let col = 0;
    let altcol = 0;
    // Indentation cannot be split over physical lines: the column of the
    // first backslash continuation (when not 0) is the line's indentation.
    let contCol = 0;
    for (;;) {
      const c = this.at(this.i);
      if (c === 0x20) { col++; altcol++; }
      else if (c === 0x09) { col = (Math.floor(col / TABSIZE) + 1) * TABSIZE; altcol++; }
      else if (c === 0x0c) { col = altcol = 0; }
      else if (c === 0x5c) {
        contCol = contCol || col;
        if (!this.continueLine()) return false;
        continue;
      }
      else break;
      this.i++;
    }
    const c = this.at(this.i);
    const blankline = c === 0x23 || c === 0x0a;
    if (contCol) { col = contCol; altcol = contCol; }
    if (!blankline && this.level === 0) this.indentTo(col, altcol);
    return blankline;
  }

  // A logical line starts at these columns: a block opens, stays, or closes.
  private indentTo(col: number, altcol: number): boolean {
    const { indstack, altstack, i } = this;
    if (col === indstack[this.indent]) {
      if (altcol !== altstack[this.indent]) return this.fail('inconsistent use of tabs and spaces in indentation', i, false);
    } else if (col > indstack[this.indent]) {
      if (this.indent + 1 >= MAXINDENT) return this.fail('too many levels of indentation', i, false);
      if (altcol <= altstack[this.indent]) return this.fail('inconsistent use of tabs and spaces in indentation', i, false);
      this.pendin++;
      indstack[++this.indent] = col;
      altstack[this.indent] = altcol;
    } else {
      while (this.indent > 0 && col < indstack[this.indent]) { this.pendin--; this.indent--; }
      if (col !== indstack[this.indent]) return this.fail('unindent does not match any outer indentation level', i, false);
      if (altcol !== altstack[this.indent]) return this.fail('inconsistent use of tabs and spaces in indentation', i, false);
    }
    return true;
  }

  private pendingIndents(): void {
    const i = this.i;
    // At the end of input CPython stays on the last line (the text ends with "\n").
    const here = i >= this.n ? this.lineNo - 1 : this.lineNo;
    while (this.pendin !== 0) {
      if (this.pendin < 0) { this.pendin++; this.tokens.push(DEDENT, 0, i, i, here); }
      else { this.pendin--; this.tokens.push(INDENT, 0, i, i, here); }
    }
  }

  // The next token (after any spaces, comment and backslash continuations).
  private token(blankline: boolean): boolean {
    for (;;) {
      let c = this.at(this.i);
      while (c === 0x20 || c === 0x09 || c === 0x0c) c = this.at(++this.i);
      const start = this.i;
      if (c === 0x23) {
        while (c !== -1 && c !== 0x0a) c = this.at(++this.i);
        if (this.level > 0) this.joins.push(start, this.i);
      }
      if (c === -1) return this.endOfInput();
      if (isIdentStart(c)) return this.nameOrString(start);
      if (c === 0x0a) {
        this.newline(start, blankline);
        return true;
      }
      if (c === 0x2e) return this.dot();
      if (isDigit(c)) return this.number(false);
      if (c === 0x22 || c === 0x27) return this.string(start, start);
      if (c === 0x5c) {
        if (!this.continueLine()) return false;
        continue;
      }
      return this.operator(c);
    }
  }

  private endOfInput(): false {
    if (this.level > 0) {
      const k = this.level - 1;
      return this.fail(`'${String.fromCharCode(this.parenChar[k])}' was never closed`, this.n, false, this.parenLine[k]);
    }
    this.tokens.push(ENDMARKER, 0, this.n, this.n, Math.max(1, this.lineNo - 1));
    return false;
  }

  private newline(start: number, blankline: boolean): void {
    this.atbol = true;
    this.i++;
    if (blankline || this.level > 0) {
      if (this.level > 0) this.joins.push(this.i - 1, this.i);
      this.lineNo++;
      return;
    }
    this.tokens.push(NEWLINE, 0, start, start + 1, this.lineNo);
    this.lineNo++;
  }

  // A name at i, or a string literal with a prefix.
  private nameOrString(start: number): boolean {
    const src = this.src;
    const i = this.i;
    const quote = this.prefixedQuote();
    if (quote >= 0) return this.string(start, quote);
    let nonascii = false;
    let k = i;
    while (k < this.n && isIdentChar(src.charCodeAt(k))) {
      if (src.charCodeAt(k) >= 128) nonascii = true;
      k++;
    }
    if (nonascii) {
      const bad = invalidIdentifierChar(src, i, k);
      if (bad) return this.fail(bad.message, bad.offset, true);
    }
    const kw = k - i <= LONGEST_KEYWORD ? KEYWORDS.get(src.slice(i, k)) ?? 0 : 0;
    this.tokens.push(NAME, kw, i, k, this.lineNo);
    this.i = k;
    return true;
  }

  // The quote after a string prefix at i (b, r, u, f in CPython's legal combinations), or -1.
  private prefixedQuote(): number {
    let sawB = false, sawR = false, sawU = false, sawF = false;
    for (let k = this.i; ;) {
      const d = this.at(k);
      if (!(sawB || sawU || sawF) && (d === 0x62 || d === 0x42)) sawB = true;
      else if (!(sawB || sawU || sawR || sawF) && (d === 0x75 || d === 0x55)) sawU = true;
      else if (!(sawR || sawU) && (d === 0x72 || d === 0x52)) sawR = true;
      else if (!(sawF || sawB || sawU) && (d === 0x66 || d === 0x46)) sawF = true;
      else return -1;
      k++;
      const q = this.at(k);
      if (q === 0x22 || q === 0x27) return k;
    }
  }

  // A string literal from start (its prefix), its opening quote at q.
  private string(start: number, q: number): boolean {
    const r = this.scanString(q);
    if (r < 0) return false;
    this.tokens.push(STRING, 0, start, r, this.lineNo);
    this.lineNo += countNewlines(this.src, start, r);
    this.i = r;
    return true;
  }

  // The string literal whose opening quote is at q: the index after the
  // closing quote, or -1 with `error` set.
  private scanString(q: number): number {
    const quote = this.src.charCodeAt(q);
    let k = q + 1;
    let quoteSize = 1;
    let endQuoteSize = 0;
    if (this.at(k) === quote) {
      if (this.at(k + 1) === quote) { quoteSize = 3; k += 2; }
      else { endQuoteSize = 1; k += 1; }
    }
    const firstLine = this.lineNo;
    let line = this.lineNo;
    while (endQuoteSize !== quoteSize) {
      const c = this.at(k++);
      if (c === -1 || (quoteSize === 1 && c === 0x0a)) {
        // CPython reports it at the opening quote, with the line it gave up on
        // (at the end of input, the last line: the text ends with "\n").
        if (c === -1) line--;
        const msg = quoteSize === 3
          ? `unterminated triple-quoted string literal (detected at line ${line})`
          : `unterminated string literal (detected at line ${line})`;
        this.fail(msg, q, true, firstLine);
        return -1;
      }
      if (c === 0x0a) line++;
      if (c === quote) endQuoteSize++;
      else {
        endQuoteSize = 0;
        if (c === 0x5c) {
          const d = this.at(k++);
          if (d === 0x0a) line++;
          if (d === -1) k--;
        }
      }
    }
    return k;
  }

  // A '.' at i: a number's fraction, an ellipsis or a dot.
  private dot(): boolean {
    const i = this.i;
    const d = this.at(i + 1);
    if (isDigit(d)) return this.number(true);
    if (d === 0x2e && this.at(i + 2) === 0x2e) {
      this.tokens.push(OP, ELLIPSIS, i, i + 3, this.lineNo);
      this.i += 3;
      return true;
    }
    this.tokens.push(OP, DOT, i, i + 1, this.lineNo);
    this.i++;
    return true;
  }

  private number(fromDot: boolean): boolean {
    const i = this.i;
    const r = this.numbers.scan(i, fromDot);
    if (r < 0) return this.fail(this.numbers.message, this.numbers.offset, true);
    this.tokens.push(NUMBER, 0, i, r, this.lineNo);
    this.i = r;
    return true;
  }

  // An operator starting with c at i: the longest of three, two or one characters.
  private operator(c: number): boolean {
    const i = this.i;
    const d = this.at(i + 1);
    if (d > 0 && d < 128) {
      const e = this.at(i + 2);
      const op3 = e > 0 && e < 128 ? OPS3.get((c << 16) | (d << 8) | e) : undefined;
      if (op3 !== undefined) {
        this.tokens.push(OP, op3, i, i + 3, this.lineNo);
        this.i += 3;
        return true;
      }
      const op2 = OPS2.get((c << 8) | d);
      if (op2 !== undefined) {
        this.tokens.push(OP, op2, i, i + 2, this.lineNo);
        this.i += 2;
        return true;
      }
    }
    if (!this.bracket(c)) return false;
    if (c < 0x20 || c === 0x7f) return this.fail(`invalid non-printable character U+${hex4(c)}`, i, true);
    this.tokens.push(OP, OPS1[c] || UNKNOWN_OP, i, i + 1, this.lineNo);
    this.i++;
    return true;
  }

  // Bracket nesting: its limit, and each closer matching its opener.
  private bracket(c: number): boolean {
    const i = this.i;
    if (c === 0x28 || c === 0x5b || c === 0x7b) {
      if (this.level >= MAXLEVEL) return this.fail('too many nested parentheses', i, true);
      this.parenChar[this.level] = c;
      this.parenLine[this.level] = this.lineNo;
      this.level++;
    } else if (c === 0x29 || c === 0x5d || c === 0x7d) {
      const ch = String.fromCharCode(c);
      if (this.level === 0) return this.fail(`unmatched '${ch}'`, i, true);
      this.level--;
      const open = this.parenChar[this.level];
      if (!((open === 0x28 && c === 0x29) || (open === 0x5b && c === 0x5d) || (open === 0x7b && c === 0x7d))) {
        const o = String.fromCharCode(open);
        const msg = this.parenLine[this.level] !== this.lineNo
          ? `closing parenthesis '${ch}' does not match opening parenthesis '${o}' on line ${this.parenLine[this.level]}`
          : `closing parenthesis '${ch}' does not match opening parenthesis '${o}'`;
        return this.fail(msg, i, true);
      }
    }
    return true;
  }
}

function countNewlines(src: string, a: number, b: number): number {
  let c = 0;
  for (let k = a; k < b; k++) if (src.charCodeAt(k) === 0x0a) c++;
  return c;
}
