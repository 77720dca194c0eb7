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
import { isNonPrintable, isXidContinue, isXidStart } from './unicode.ts';

export const NAME = 1;
export const NUMBER = 2;
export const STRING = 3;
export const OP = 4;
export const NEWLINE = 5;
export const INDENT = 6;
export const DEDENT = 7;
export const ENDMARKER = 8;

// Operator codes (TokenBuffer.code for OP tokens).
export const LPAR = 1, RPAR = 2, LSQB = 3, RSQB = 4, LBRACE = 5, RBRACE = 6, COLON = 7, COMMA = 8,
  SEMI = 9, DOT = 10, EQUAL = 11, COLONEQUAL = 12, STAR = 13, DOUBLESTAR = 14, AT = 15, RARROW = 16,
  ELLIPSIS = 17, NOTEQUAL_LTGT = 18, UNKNOWN_OP = 19, AUGASSIGN = 20, SLASH = 21, PLUS_MINUS = 22,
  TILDE = 23, BINOP = 24, COMPARE = 25;

// Keyword codes (TokenBuffer.code for NAME tokens; 0 for plain names).
export const KW = {
  False: 1, None: 2, True: 3, and: 4, as: 5, assert: 6, async: 7, await: 8, break: 9, class: 10,
  continue: 11, def: 12, del: 13, elif: 14, else: 15, except: 16, finally: 17, for: 18, from: 19,
  global: 20, if: 21, import: 22, in: 23, is: 24, lambda: 25, nonlocal: 26, not: 27, or: 28,
  pass: 29, raise: 30, return: 31, try: 32, while: 33, with: 34, yield: 35,
  // Soft keywords: names that start a statement of their own only in some places.
  match: 64, case: 65,
} as const;
const KEYWORDS = new Map<string, number>(Object.entries(KW));
export const SOFT_KEYWORD_MIN = 64;

/** Tokens as parallel arrays: one allocation per field, grown by doubling. */
export class TokenBuffer {
  count = 0;
  kind = new Uint8Array(256);
  code = new Uint8Array(256);
  start = new Int32Array(256);
  end = new Int32Array(256);
  line = new Int32Array(256);

  push(kind: number, code: number, start: number, end: number, line: number): void {
    if (this.count === this.kind.length) this.grow();
    const i = this.count++;
    this.kind[i] = kind;
    this.code[i] = code;
    this.start[i] = start;
    this.end[i] = end;
    this.line[i] = line;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const k = new Uint8Array(n); k.set(this.kind); this.kind = k;
    const c = new Uint8Array(n); c.set(this.code); this.code = c;
    const s = new Int32Array(n); s.set(this.start); this.start = s;
    const e = new Int32Array(n); e.set(this.end); this.end = e;
    const l = new Int32Array(n); l.set(this.line); this.line = l;
  }
}

export interface SyntaxIssue {
  line: number;
  message: string;
  /** Source offset of the error, to order it against parser errors. */
  offset: number;
  /**
   * CPython raises some tokenizer errors as exceptions (bad literals,
   * characters, brackets); after a parser error it scans the rest of the
   * source for those and reports them instead. Indentation and continuation
   * errors are only seen when the parser reaches them.
   */
  overrides: boolean;
}

export interface TokenizeResult {
  tokens: TokenBuffer;
  error: SyntaxIssue | null;
  /**
   * [start, end) pairs of text that joins physical lines into one logical
   * line: newlines and comments inside brackets, backslash continuations.
   * Blanking them gives tree-sitter one physical line per logical line, so
   * its indentation scanner cannot see a dedent inside brackets.
   */
  joins: number[];
}

const MAXINDENT = 100;
const MAXLEVEL = 200;
const TABSIZE = 8;


function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 128;
}
function isIdentChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c >= 128;
}

function hex4(cp: number): string {
  return cp.toString(16).toUpperCase().padStart(4, '0');
}

export function isPrintableCodePoint(cp: number): boolean {
  return cp === 0x20 || !isNonPrintable(cp);
}

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
const LONGEST_KEYWORD = 8;

export function tokenize(src: string): TokenizeResult {
  const tokens = new TokenBuffer();
  const n = src.length;
  let i = 0;
  let lineNo = 1;
  let atbol = true;
  const indstack = [0];
  const altstack = [0];
  let indent = 0;
  let pendin = 0;
  const parenChar: number[] = [];
  const parenLine: number[] = [];
  let level = 0;
  let error: SyntaxIssue | null = null;
  const joins: number[] = [];

  const fail = (message: string, offset: number, overrides: boolean, line = lineNo): TokenizeResult => {
    error = { line, message, offset, overrides };
    return { tokens, error, joins };
  };
  const at = (k: number): number => (k < n ? src.charCodeAt(k) : -1);
  /** A backslash at i joins the next line; returns the failure, or undefined with i past the newline. */
  const continueLine = (): TokenizeResult | undefined => {
    if (at(i + 1) !== 0x0a) return fail('unexpected character after line continuation character', i, false);
    joins.push(i, i + 2);
    i += 2;
    lineNo++;
    if (i >= n) return fail('unexpected EOF while parsing', i, false, lineNo - 1);
    return undefined;
  };

  // Numbers: tok_decimal_tail; returns the index after the digits or -1 on error.
  const decimalTail = (k: number): number => {
    for (;;) {
      while (isDigit(at(k))) k++;
      if (at(k) !== 0x5f) return k;
      k++;
      if (!isDigit(at(k))) return -1;
    }
  };
  // verify_end_of_number: a number glued to a name is an error, except for
  // the keywords that may follow a number in valid code (a deprecation warning).
  const lookahead = (k: number, word: string): boolean => {
    for (let j = 0; j < word.length; j++) if (at(k + j) !== word.charCodeAt(j)) return false;
    return !isIdentChar(at(k + word.length));
  };
  const endOfNumberOk = (k: number): boolean => {
    const c = at(k);
    let r = false;
    if (c === 0x61) r = lookahead(k + 1, 'nd');
    else if (c === 0x65) r = lookahead(k + 1, 'lse');
    else if (c === 0x66) r = lookahead(k + 1, 'or');
    else if (c === 0x69) { const c2 = at(k + 1); r = c2 === 0x66 || c2 === 0x6e || c2 === 0x73; }
    else if (c === 0x6f) r = lookahead(k + 1, 'r');
    else if (c === 0x6e) r = lookahead(k + 1, 'ot');
    return r || !isIdentChar(c);
  };

  for (;;) {
    // nextline:
    let blankline = false;
    if (atbol) {
      atbol = false;
      let col = 0;
      let altcol = 0;
      // Indentation cannot be split over physical lines: the column of the
      // first backslash continuation (when not 0) is the line's indentation.
      let contCol = 0;
      for (;;) {
        const c = at(i);
        if (c === 0x20) { col++; altcol++; }
        else if (c === 0x09) { col = (Math.floor(col / TABSIZE) + 1) * TABSIZE; altcol++; }
        else if (c === 0x0c) { col = altcol = 0; }
        else if (c === 0x5c) {
          contCol = contCol || col;
          const failed = continueLine();
          if (failed) return failed;
          continue;
        }
        else break;
        i++;
      }
      const c = at(i);
      if (c === 0x23 || c === 0x0a) blankline = true;
      if (contCol) { col = contCol; altcol = contCol; }
      if (!blankline && level === 0) {
        if (col === indstack[indent]) {
          if (altcol !== altstack[indent]) return fail('inconsistent use of tabs and spaces in indentation', i, false);
        } else if (col > indstack[indent]) {
          if (indent + 1 >= MAXINDENT) return fail('too many levels of indentation', i, false);
          if (altcol <= altstack[indent]) return fail('inconsistent use of tabs and spaces in indentation', i, false);
          pendin++;
          indstack[++indent] = col;
          altstack[indent] = altcol;
        } else {
          while (indent > 0 && col < indstack[indent]) { pendin--; indent--; }
          if (col !== indstack[indent]) return fail('unindent does not match any outer indentation level', i, false);
          if (altcol !== altstack[indent]) return fail('inconsistent use of tabs and spaces in indentation', i, false);
        }
      }
    }
    // At the end of input CPython stays on the last line (the text ends with "\n").
    const here = i >= n ? lineNo - 1 : lineNo;
    while (pendin !== 0) {
      if (pendin < 0) { pendin++; tokens.push(DEDENT, 0, i, i, here); }
      else { pendin--; tokens.push(INDENT, 0, i, i, here); }
    }

    // again: (a backslash continuation resumes here)
    for (;;) {
      let c = at(i);
      while (c === 0x20 || c === 0x09 || c === 0x0c) c = at(++i);
      const start = i;
      if (c === 0x23) {
        while (c !== -1 && c !== 0x0a) c = at(++i);
        if (level > 0) joins.push(start, i);
      }
      if (c === -1) {
        if (level > 0) {
          const k = level - 1;
          return fail(`'${String.fromCharCode(parenChar[k])}' was never closed`, n, false, parenLine[k]);
        }
        tokens.push(ENDMARKER, 0, n, n, Math.max(1, lineNo - 1));
        return { tokens, error, joins };
      }

      if (isIdentStart(c)) {
        // String prefixes: b, r, u, f in CPython's legal combinations.
        let sawB = false, sawR = false, sawU = false, sawF = false;
        let k = i;
        let quote = false;
        for (;;) {
          const d = at(k);
          if (!(sawB || sawU || sawF) && (d === 0x62 || d === 0x42)) sawB = true;
          else if (!(sawB || sawU || sawR || sawF) && (d === 0x75 || d === 0x55)) sawU = true;
          else if (!(sawR || sawU) && (d === 0x72 || d === 0x52)) sawR = true;
          else if (!(sawF || sawB || sawU) && (d === 0x66 || d === 0x46)) sawF = true;
          else break;
          k++;
          const q = at(k);
          if (q === 0x22 || q === 0x27) { quote = true; break; }
        }
        if (quote) {
          const r = scanString(k);
          if (r < 0) return { tokens, error, joins };
          tokens.push(STRING, 0, start, r, lineNo);
          lineNo += countNewlines(src, start, r);
          i = r;
          break;
        }
        let nonascii = false;
        k = i;
        while (k < n && isIdentChar(src.charCodeAt(k))) {
          if (src.charCodeAt(k) >= 128) nonascii = true;
          k++;
        }
        if (nonascii) {
          const bad = invalidIdentifierChar(src, i, k);
          if (bad) return fail(bad.message, bad.offset, true);
        }
        const kw = k - i <= LONGEST_KEYWORD ? KEYWORDS.get(src.slice(i, k)) ?? 0 : 0;
        tokens.push(NAME, kw, i, k, lineNo);
        i = k;
        break;
      }

      if (c === 0x0a) {
        atbol = true;
        i++;
        if (blankline || level > 0) {
          if (level > 0) joins.push(i - 1, i);
          lineNo++;
          break;
        }
        tokens.push(NEWLINE, 0, start, start + 1, lineNo);
        lineNo++;
        break;
      }

      if (c === 0x2e) {
        const d = at(i + 1);
        if (isDigit(d)) {
          const r = scanNumber(i, true);
          if (r < 0) return { tokens, error, joins };
          tokens.push(NUMBER, 0, i, r, lineNo);
          i = r;
          break;
        }
        if (d === 0x2e && at(i + 2) === 0x2e) {
          tokens.push(OP, ELLIPSIS, i, i + 3, lineNo);
          i += 3;
          break;
        }
        tokens.push(OP, DOT, i, i + 1, lineNo);
        i++;
        break;
      }

      if (isDigit(c)) {
        const r = scanNumber(i, false);
        if (r < 0) return { tokens, error, joins };
        tokens.push(NUMBER, 0, i, r, lineNo);
        i = r;
        break;
      }

      if (c === 0x22 || c === 0x27) {
        const r = scanString(i);
        if (r < 0) return { tokens, error, joins };
        tokens.push(STRING, 0, start, r, lineNo);
        lineNo += countNewlines(src, start, r);
        i = r;
        break;
      }

      if (c === 0x5c) {
        const failed = continueLine();
        if (failed) return failed;
        continue;
      }

      // Operators.
      const d = at(i + 1);
      if (d > 0 && d < 128) {
        const e = at(i + 2);
        const op3 = e > 0 && e < 128 ? OPS3.get((c << 16) | (d << 8) | e) : undefined;
        if (op3 !== undefined) {
          tokens.push(OP, op3, i, i + 3, lineNo);
          i += 3;
          break;
        }
        const op2 = OPS2.get((c << 8) | d);
        if (op2 !== undefined) {
          tokens.push(OP, op2, i, i + 2, lineNo);
          i += 2;
          break;
        }
      }
      if (c === 0x28 || c === 0x5b || c === 0x7b) {
        if (level >= MAXLEVEL) return fail('too many nested parentheses', i, true);
        parenChar[level] = c;
        parenLine[level] = lineNo;
        level++;
      } else if (c === 0x29 || c === 0x5d || c === 0x7d) {
        const ch = String.fromCharCode(c);
        if (level === 0) return fail(`unmatched '${ch}'`, i, true);
        level--;
        const open = parenChar[level];
        if (!((open === 0x28 && c === 0x29) || (open === 0x5b && c === 0x5d) || (open === 0x7b && c === 0x7d))) {
          const o = String.fromCharCode(open);
          const msg = parenLine[level] !== lineNo
            ? `closing parenthesis '${ch}' does not match opening parenthesis '${o}' on line ${parenLine[level]}`
            : `closing parenthesis '${ch}' does not match opening parenthesis '${o}'`;
          return fail(msg, i, true);
        }
      }
      if (c < 0x20 || c === 0x7f) return fail(`invalid non-printable character U+${hex4(c)}`, i, true);
      tokens.push(OP, OPS1[c] || UNKNOWN_OP, i, i + 1, lineNo);
      i++;
      break;
    }
  }

  // String literal starting at the quote at q (prefix already consumed).
  // Returns the index after the closing quote, or -1 with `error` set.
  function scanString(q: number): number {
    const quote = src.charCodeAt(q);
    let k = q + 1;
    let quoteSize = 1;
    let endQuoteSize = 0;
    if (at(k) === quote) {
      if (at(k + 1) === quote) { quoteSize = 3; k += 2; }
      else { endQuoteSize = 1; k += 1; }
    }
    const firstLine = lineNo;
    let line = lineNo;
    while (endQuoteSize !== quoteSize) {
      const c = at(k++);
      if (c === -1 || (quoteSize === 1 && c === 0x0a)) {
        // CPython reports it at the opening quote, with the line it gave up on
        // (at the end of input, the last line: the text ends with "\n").
        if (c === -1) line--;
        const msg = quoteSize === 3
          ? `unterminated triple-quoted string literal (detected at line ${line})`
          : `unterminated string literal (detected at line ${line})`;
        fail(msg, q, true, firstLine);
        return -1;
      }
      if (c === 0x0a) line++;
      if (c === quote) endQuoteSize++;
      else {
        endQuoteSize = 0;
        if (c === 0x5c) {
          const d = at(k++);
          if (d === 0x0a) line++;
          if (d === -1) k--;
        }
      }
    }
    return k;
  }

  // Number starting at k (fromDot: at a '.' followed by a digit).
  // Number helpers (declared once per call of tokenize: no closures per token).
  function bad(msg: string, off: number): number {
    fail(msg, off, true);
    return -1;
  }
  function finish(e: number, kind: string): number {
    return endOfNumberOk(e) ? e : bad(`invalid ${kind} literal`, e);
  }
  function exponentAndImag(e: number): number {
    let c = at(e);
    if (c === 0x65 || c === 0x45) {
      let m = e + 1;
      c = at(m);
      if (c === 0x2b || c === 0x2d) {
        m++;
        if (!isDigit(at(m))) return bad('invalid decimal literal', m);
      } else if (!isDigit(c)) {
        // "1e" then a name: the 'e' is judged by verify_end_of_number.
        return endOfNumberOk(e) ? e : bad('invalid decimal literal', e);
      }
      e = decimalTail(m);
      if (e < 0) return bad('invalid decimal literal', m);
    }
    c = at(e);
    if (c === 0x6a || c === 0x4a) return finish(e + 1, 'imaginary');
    return finish(e, 'decimal');
  }
  // e is just after the '.' of the number starting at k.
  function fraction(e: number, k: number): number {
    if (isDigit(at(e))) {
      e = decimalTail(e);
      if (e < 0) return bad('invalid decimal literal', k);
    }
    return exponentAndImag(e);
  }

  // Number starting at k (fromDot: at a '.' followed by a digit).
  function scanNumber(k: number, fromDot: boolean): number {
    if (fromDot) return fraction(k + 1, k);
    let c = at(k);
    if (c === 0x30) {
      let e = k + 1;
      c = at(e);
      if (c === 0x78 || c === 0x58) {
        e++;
        do {
          if (at(e) === 0x5f) e++;
          if (!isHex(at(e))) return bad('invalid hexadecimal literal', e);
          while (isHex(at(e))) e++;
        } while (at(e) === 0x5f);
        return finish(e, 'hexadecimal');
      }
      if (c === 0x6f || c === 0x4f || c === 0x62 || c === 0x42) {
        const octal = c === 0x6f || c === 0x4f;
        const kind = octal ? 'octal' : 'binary';
        e++;
        do {
          if (at(e) === 0x5f) e++;
          const d = at(e);
          if (!isOctalOrBinary(d, octal)) {
            if (isDigit(d)) return bad(`invalid digit '${String.fromCharCode(d)}' in ${kind} literal`, e);
            return bad(`invalid ${kind} literal`, e);
          }
          while (isOctalOrBinary(at(e), octal)) e++;
        } while (at(e) === 0x5f);
        if (isDigit(at(e))) return bad(`invalid digit '${String.fromCharCode(at(e))}' in ${kind} literal`, e);
        return finish(e, kind);
      }
      // Zeros, maybe an old-style octal (now an error unless it is a float).
      let nonzero = false;
      for (;;) {
        if (at(e) === 0x5f) {
          e++;
          if (!isDigit(at(e))) return bad('invalid decimal literal', e);
        }
        if (at(e) !== 0x30) break;
        e++;
      }
      if (isDigit(at(e))) {
        nonzero = true;
        e = decimalTail(e);
        if (e < 0) return bad('invalid decimal literal', k);
      }
      c = at(e);
      if (c === 0x2e) return fraction(e + 1, k);
      if (c === 0x65 || c === 0x45 || c === 0x6a || c === 0x4a) return exponentAndImag(e);
      if (nonzero) {
        return bad('leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers', k);
      }
      return finish(e, 'decimal');
    }
    const e = decimalTail(k);
    if (e < 0) return bad('invalid decimal literal', k);
    if (at(e) === 0x2e) return fraction(e + 1, k);
    return exponentAndImag(e);
  }
}

function isOctalOrBinary(d: number, octal: boolean): boolean {
  return octal ? d >= 0x30 && d <= 0x37 : d === 0x30 || d === 0x31;
}

function countNewlines(src: string, a: number, b: number): number {
  let c = 0;
  for (let k = a; k < b; k++) if (src.charCodeAt(k) === 0x0a) c++;
  return c;
}

// verify_identifier: the first character must be XID_Start or '_', the rest
// XID_Continue, by Unicode 14.0 (JavaScript's \p{XID_Start} follows a newer
// Unicode); the error names the first offending character.
function invalidIdentifierChar(src: string, a: number, b: number): { message: string; offset: number } | null {
  let first = true;
  for (let k = a; k < b; ) {
    const cp = src.codePointAt(k)!;
    const ok = first ? cp === 0x5f || isXidStart(cp) : isXidContinue(cp);
    if (!ok) {
      const ch = String.fromCodePoint(cp);
      const message = isPrintableCodePoint(cp)
        ? `invalid character '${ch}' (U+${hex4(cp)})`
        : `invalid non-printable character U+${hex4(cp)}`;
      return { message, offset: k };
    }
    first = false;
    k += cp > 0xffff ? 2 : 1;
  }
  return null;
}
