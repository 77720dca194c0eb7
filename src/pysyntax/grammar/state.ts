// The one interface through which the grammar pass's rule files (blocks, statements, targets,
// frames, parameters, keywords, operators, starred, patterns) share its state: the token stream,
// read-only; the parse state, each part owned by the rules named beside it; the facts the pass
// works out for the current token before any rule sees it; and the helpers every rule uses.
// pass.ts implements it and calls the rules; the rules import this file, never pass.ts, so the
// imports run one way.

import type { SyntaxIssue } from '../tokens.ts';
import type { Frame } from './frame.ts';

/** Where a try statement is, at one block depth. */
export const TryState = {
  /** No try statement, or one whose clauses may have ended. */
  None: 0,
  /** After the try body: an `except` or `finally` must follow. */
  AfterBody: 1,
  Except: 2,
  ExceptStar: 3,
  Else: 4,
} as const;
export type TryState = (typeof TryState)[keyof typeof TryState];

/** Block structure, per block depth (blocks.ts). */
export interface BlockState {
  /** The current block depth; index 0 is the module. */
  depth: number;
  /** Per depth, where a try statement's clauses are. */
  readonly tryState: TryState[];
  /** Per depth, whether the block is a match statement's body (only `case` may begin a line). */
  readonly matchBody: boolean[];
}

/** The state of the statement being read. */
export class Statement {
  /** Its first token; -1 between statements. */
  start = -1;
  /** Keyword code of the statement (soft keywords resolved), 0 for expressions. */
  kw = 0;
  /** A compound statement (its header ends with `:`). */
  compound = false;
  /** A compound statement's header has reached its `:`. */
  headerDone = false;
  /** The first top-level augmented assignment, annotation colon and `=`, or -1. */
  firstAug = -1;
  annColon = -1;
  firstEq = -1;
  /** Top-level commas, and the first of them (or -1). */
  topCommas = 0;
  firstTopComma = -1;
  /** The first token of the current top-level element. */
  topElemStart = -1;
  /** A case pattern has a starred element at the top level. */
  starTop = false;
  /** The `in` of a for statement's header. */
  forIn = -1;
  /** The `import` of a from-import. */
  importAt = -1;
  /** A case clause has reached its guard. */
  caseGuard = false;
  /** The statement is a decorator line. */
  decorator = false;

  reset(k: number): void {
    this.start = k;
    this.headerDone = false;
    this.firstAug = this.annColon = this.firstEq = this.firstTopComma = -1;
    this.topCommas = 0;
    this.starTop = false;
    this.forIn = -1;
    this.importAt = -1;
    this.caseGuard = false;
    this.topElemStart = k + 1;
    this.compound = false;
  }
}

export interface GrammarState {
  // The token stream (the tokenizer's TokenBuffer) and the source it came from.
  readonly src: string;
  readonly kind: Uint8Array;
  readonly code: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly line: Int32Array;
  /** Tokens in the stream. */
  readonly n: number;
  /** For each opening bracket, its closer (-1 until it is closed): written by frames.ts's closeFrame. */
  readonly match: Int32Array;
  /** For each opening bracket, the commas directly inside it: written by closeFrame. */
  readonly innerCommas: Int32Array;
  /** [start, end) ranges the checker hides from tree-sitter (starred.ts adds statement-level `*`). */
  readonly treeSitterBlanks: number[];

  /** Open brackets, innermost last; frames[0] is the statement's own frame (frames.ts). */
  readonly frames: Frame[];
  readonly blocks: BlockState;
  /** The statement being read (statements.ts). */
  readonly stmt: Statement;
  /** The next token begins a statement: set where one ends (statements.ts, operators.ts' `;`). */
  stmtPending: boolean;
  /** The next token begins a logical line (statements.ts, at a NEWLINE). */
  lineStartPending: boolean;

  /** The current token begins its statement. */
  readonly stmtBegins: boolean;
  /** The current token follows an operand (so it is a binary operator or a trailer). */
  readonly afterOperand: boolean;
  /** The current token begins an element of the innermost frame. */
  readonly elemFirst: boolean;
  /** The first rule violation, once fail() has recorded it. */
  readonly error: SyntaxIssue | null;

  /** Records the violation: `at` is the token CPython reports, `orderAt` the one whose offset orders it against tree-sitter's. */
  fail(message: string, at: number, orderAt?: number): SyntaxIssue;
  isKw(k: number, kw: number): boolean;
  isOp(k: number, op: number): boolean;
  /** A name that is not a hard keyword. */
  isPlainName(k: number): boolean;
  text(k: number): string;
  /** An operand just ended at k: a binary operator or a trailer may follow. */
  atomEnd(k: number): boolean;
  /** k starts a new operand (so it cannot follow one). */
  atomStart(k: number): boolean;
  /** k may begin a primary (what `await` applies to). */
  primaryStart(k: number): boolean;
  /** The innermost frame. */
  top(): Frame;
  /** One more chain-forming token in the frame's current element: the AST depth estimate grows. */
  bump(f: Frame): void;
}
