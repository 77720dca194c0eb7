// The token stream of the lexer (CPython's token kinds, with operators and
// keywords coded so the grammar pass compares numbers, not strings), and
// the issue type every layer of the check reports.

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
