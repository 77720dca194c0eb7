// Parser rules of CPython 3.11 that tree-sitter-python's grammar does not
// enforce, checked in one pass over the CPython token stream.
//
// tree-sitter-python is an error-tolerant superset grammar: it accepts
// Python 2 statements (`print x`, `exec "s"`), `type X = ...`, type
// parameters, `<>`, `as` anywhere in an expression, `:=` and `*expr` in any
// expression position, keyword arguments before positional ones, parameters
// in any order, and empty or unexpectedly indented blocks. Each rule names
// the CPython behaviour it restores; messages follow CPython's wording.
//
// The pass keeps a stack of bracket frames (what kind of list the tokens are
// in: call arguments, parameters, a parenthesised group, a subscript, ...)
// and the state of the current statement; every rule looks at a token, its
// neighbours and those two. It runs on a token stream the tokenizer accepted
// up to its first error, so each token is seen once. The rules live by
// family next to this file (blocks, statements, targets, frames, parameters,
// keywords, operators, starred, patterns) and see the state they share
// through one interface, GrammarState (state.ts), which GrammarPass implements.

import {
  COMMA, DEDENT, ELLIPSIS, ENDMARKER, INDENT, KW, LBRACE, LPAR, LSQB, NAME, NEWLINE, NUMBER, OP, RBRACE, RPAR, RSQB,
  SOFT_KEYWORD_MIN, STRING, type SyntaxIssue, type TokenBuffer,
} from '../tokens.ts';
import { beginLine, dedent, endOfInput } from './blocks.ts';
import { FrameKind, frame, type Frame } from './frame.ts';
import { startElement } from './frames.ts';
import { keyword } from './keywords.ts';
import { operator } from './operators.ts';
import { endStarOperand } from './starred.ts';
import { type BlockState, type GrammarState, Statement, TryState } from './state.ts';
import { beginStatement, cannotStart, endLine, operandAdjacency } from './statements.ts';

// CPython turns an AST deeper than this into RecursionError/MemoryError
// (3 x the default recursion limit, less the caller's frames; measured with
// python3 3.11: 2985 nested unary operators under an expression statement).
const MAX_AST_DEPTH = 2988;

/**
 * The first rule violation in the token stream, or null.
 * treeSitterBlanks receives [start, end) ranges to hide from tree-sitter:
 * the `*` of starred expressions at statement level, which CPython parses
 * with any operand but tree-sitter-python only before a name, attribute or
 * subscript (`x = *(a), b`, `for x in *(a):`). Their placement is checked here.
 */
export function checkGrammar(src: string, t: TokenBuffer, treeSitterBlanks: number[]): SyntaxIssue | null {
  return new GrammarPass(src, t, treeSitterBlanks).run();
}

class GrammarPass implements GrammarState {
  readonly kind: Uint8Array;
  readonly code: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly line: Int32Array;
  readonly n: number;
  readonly match: Int32Array;
  readonly innerCommas: Int32Array;
  error: SyntaxIssue | null = null;

  readonly frames: Frame[] = [frame(FrameKind.Stmt, -1, 0)];
  /** The deepest AST estimate so far (bump), against MAX_AST_DEPTH. */
  private maxDepthSeen = 0;
  readonly blocks: BlockState = { depth: 0, tryState: [TryState.None], matchBody: [false] };
  lineStartPending = true;
  stmtPending = true;
  readonly stmt = new Statement();

  stmtBegins = false;
  afterOperand = false;
  elemFirst = false;

  constructor(readonly src: string, t: TokenBuffer, readonly treeSitterBlanks: number[]) {
    this.kind = t.kind;
    this.code = t.code;
    this.start = t.start;
    this.end = t.end;
    this.line = t.line;
    this.n = t.count;
    this.match = new Int32Array(this.n).fill(-1);
    this.innerCommas = new Int32Array(this.n);
  }

  // orderAt: tree-sitter's error starts where its recovery began.
  fail(message: string, at: number, orderAt = at): SyntaxIssue {
    const a = Math.min(at, this.n - 1);
    this.error = { message, line: this.line[a], offset: this.start[Math.min(orderAt, this.n - 1)], overrides: false };
    return this.error;
  }

  isKw(k: number, kw: number): boolean {
    return k >= 0 && k < this.n && this.kind[k] === NAME && this.code[k] === kw;
  }

  isOp(k: number, op: number): boolean {
    return k >= 0 && k < this.n && this.kind[k] === OP && this.code[k] === op;
  }

  isPlainName(k: number): boolean {
    return this.kind[k] === NAME && (this.code[k] === 0 || this.code[k] >= SOFT_KEYWORD_MIN);
  }

  text(k: number): string {
    return this.src.slice(this.start[k], this.end[k]);
  }

  /** An operand just ended at k: a binary operator or a trailer may follow. */
  atomEnd(k: number): boolean {
    if (k < 0) return false;
    const kd = this.kind[k];
    const c = this.code[k];
    if (kd === NUMBER || kd === STRING) return true;
    if (kd === NAME) return this.isPlainName(k) || c === KW.None || c === KW.True || c === KW.False;
    if (kd === OP) return c === RPAR || c === RSQB || c === RBRACE || c === ELLIPSIS;
    return false;
  }

  /** k starts a new operand (so it cannot follow one). */
  atomStart(k: number): boolean {
    const kd = this.kind[k];
    if (kd === NUMBER || kd === STRING) return true;
    if (kd === NAME) {
      if (this.isPlainName(k)) return true;
      const c = this.code[k];
      if (c === KW.not) return !this.isKw(k + 1, KW.in);
      return c === KW.None || c === KW.True || c === KW.False || c === KW.lambda || c === KW.await || c === KW.yield;
    }
    return kd === OP && (this.code[k] === LBRACE || this.code[k] === ELLIPSIS);
  }

  /** k may begin a primary (what `await` applies to). */
  primaryStart(k: number): boolean {
    if (k >= this.n) return false;
    const kd = this.kind[k];
    const c = this.code[k];
    if (kd === NUMBER || kd === STRING) return true;
    if (kd === NAME) return this.isPlainName(k) || c === KW.None || c === KW.True || c === KW.False;
    return kd === OP && (c === LPAR || c === LSQB || c === LBRACE || c === ELLIPSIS);
  }

  top(): Frame {
    return this.frames[this.frames.length - 1];
  }

  // Chain-forming tokens (operators, trailers, brackets) deepen the AST; the
  // estimate counts them per element, which is exact for the single-operator
  // chains that reach CPython's limit and over-counts mixed precedence.
  bump(f: Frame): void {
    f.run++;
    const d = 2 + this.blocks.depth + f.base + f.run;
    if (d > this.maxDepthSeen) this.maxDepthSeen = d;
  }

  run(): SyntaxIssue | null {
    const { kind, n } = this;
    for (let k = 0; k < n; k++) {
      const kd = kind[k];
      if (kd === NEWLINE) {
        k = endLine(this, k);
        if (k < 0) return this.error;
        continue;
      }
      if (kd === INDENT) return this.fail('unexpected indent', k);
      if (kd === DEDENT) {
        if (dedent(this, k)) return this.error;
        continue;
      }
      if (kd === ENDMARKER) {
        if (endOfInput(this, k)) return this.error;
        break;
      }
      if (this.token(k)) return this.error;
    }
    return this.error;
  }

  // A token of a logical line: the checks every token gets, then those of its kind.
  private token(k: number): SyntaxIssue | null {
    const kd = this.kind[k];
    if (this.lineStartPending) {
      this.lineStartPending = false;
      if (beginLine(this, k)) return this.error;
    }
    const stmtBegins = this.stmtPending;
    if (stmtBegins) {
      if (cannotStart(this, k)) return this.fail('invalid syntax', k);
      beginStatement(this, k);
    }
    const s = this.stmt;
    const f = this.top();
    this.stmtBegins = stmtBegins;
    // `match`/`case` opening their statement are keywords, not operands.
    this.afterOperand = !stmtBegins && this.atomEnd(k - 1) &&
      !(k - 1 === s.start && s.compound && (s.kw === KW.match || s.kw === KW.case));
    this.elemFirst = f.elemStart;
    if (f.elemStart && f.kind !== FrameKind.Stmt) {
      // An empty element: tree-sitter accepts `f(,)` and `{,}`.
      if (this.isOp(k, COMMA)) return this.fail('invalid syntax', k);
      if (startElement(this, f, k)) return this.error;
    }
    if (this.isOp(k, COMMA) && this.isOp(k - 1, COMMA)) return this.fail('invalid syntax', k);
    if (f.starOperand && endStarOperand(this, f, k)) return this.error;
    if (operandAdjacency(this, k)) return this.error;

    if (kd === NAME) {
      if (keyword(this, f, k)) return this.error;
    } else if (kd === OP) {
      if (operator(this, f, k)) return this.error;
    } else {
      return null;
    }
    return this.maxDepthSeen > MAX_AST_DEPTH ? this.tooDeep(k) : null;
  }

  private tooDeep(k: number): SyntaxIssue {
    return this.fail('too many nested expressions (CPython: "maximum recursion depth exceeded during ast construction")', k);
  }
}
