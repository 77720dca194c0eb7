// Statements: where one begins and ends, which keyword makes it (soft
// keywords resolved), and the checks made when it ends: assignment and
// annotation targets, `del`, `assert`, `raise`, imports, except clauses.

import {
  AT, AUGASSIGN, BINOP, COLON, COLONEQUAL, COMMA, COMPARE, DEDENT, DOT, DOUBLESTAR, ENDMARKER, EQUAL, INDENT, KW, NAME,
  NEWLINE, NOTEQUAL_LTGT, OP, RARROW, SEMI, SLASH, SOFT_KEYWORD_MIN, STAR, STRING, type SyntaxIssue,
} from '../tokens.ts';
import { openBlock } from './blocks.ts';
import type { Frame } from './frame.ts';
import { caseStarNeedsTuple } from './patterns.ts';
import type { GrammarState } from './state.ts';
import { notSingleTarget, targetError } from './targets.ts';

const HEADER_NAMES: Record<number, string> = {
  [KW.if]: "'if' statement", [KW.elif]: "'elif' statement", [KW.else]: "'else' statement",
  [KW.while]: "'while' statement", [KW.for]: "'for' statement", [KW.try]: "'try' statement",
  [KW.except]: "'except' statement", [KW.finally]: "'finally' statement", [KW.with]: "'with' statement",
  [KW.def]: 'function definition', [KW.class]: 'class definition', [KW.match]: "'match' statement",
  [KW.case]: "'case' statement",
};

/** Tokens that cannot begin a statement (tree-sitter may attach them to the previous line). */
export function cannotStart(g: GrammarState, k: number): boolean {
  const c = g.code[k];
  if (g.kind[k] === OP) {
    return c === COMMA || c === COLON || c === EQUAL || c === SEMI || c === DOT || c === SLASH || c === BINOP ||
      c === COMPARE || c === RARROW || c === COLONEQUAL || c === AUGASSIGN || c === DOUBLESTAR || c === NOTEQUAL_LTGT;
  }
  return g.kind[k] === NAME && (c === KW.and || c === KW.or || c === KW.in || c === KW.is || c === KW.as);
}

export function beginStatement(g: GrammarState, k: number): void {
  const s = g.stmt;
  s.reset(k);
  g.stmtPending = false;
  const f = g.frames[0];
  f.run = 0;
  f.asAt = -1;
  f.starOperand = false;
  s.kw = g.kind[k] === NAME ? g.code[k] : 0;
  s.decorator = g.isOp(k, AT);
  switch (s.kw) {
    case KW.if: case KW.elif: case KW.else: case KW.while: case KW.for: case KW.try: case KW.except:
    case KW.finally: case KW.with: case KW.def: case KW.class:
      s.compound = true;
      break;
    case KW.async:
      s.compound = true;
      if (k + 1 < g.n && g.kind[k + 1] === NAME) s.kw = g.code[k + 1];
      break;
    case KW.match:
      s.compound = isMatchHeader(g, k);
      if (!s.compound) s.kw = 0;
      break;
    case KW.case:
      s.compound = g.blocks.matchBody[g.blocks.depth] === true;
      if (!s.compound) s.kw = 0;
      break;
    case KW.None: case KW.True: case KW.False: case KW.not: case KW.lambda: case KW.await: case KW.yield:
      s.kw = 0; // an expression statement
      break;
    default:
      if (s.kw >= SOFT_KEYWORD_MIN) s.kw = 0;
  }
}

/** `match` starts a match statement when its logical line ends with ':'. */
function isMatchHeader(g: GrammarState, k: number): boolean {
  let j = k + 1;
  while (j < g.n && g.kind[j] !== NEWLINE && g.kind[j] !== ENDMARKER) j++;
  return j < g.n && g.kind[j] === NEWLINE && g.isOp(j - 1, COLON) && j - 1 > k;
}

/** Checks when a simple statement ends at token k (';', NEWLINE) or a compound header ends at its ':'. */
export function endStatement(g: GrammarState, k: number): SyntaxIssue | null {
  const s = g.stmt;
  g.frames.length = 1;
  if (s.start < 0) return null;
  if (s.compound) return s.headerDone ? endHeader(g, k) : null;
  switch (s.kw) {
    case 0:
      return assignmentError(g);
    case KW.del: {
      if (k > s.topElemStart) {
        const err = targetError(g, s.topElemStart, k, false, true);
        if (err) return g.fail(err, s.topElemStart);
      }
      return null;
    }
    case KW.assert:
      return s.topCommas > 1 ? g.fail('invalid syntax', s.firstTopComma) : null;
    case KW.raise:
      return s.topCommas > 0 ? g.fail('invalid syntax', s.firstTopComma) : null;
    case KW.import:
      return g.isOp(k - 1, COMMA) ? g.fail('invalid syntax', k - 1) : null;
    case KW.from:
      if (s.importAt < 0) return g.fail('invalid syntax', k);
      return g.isOp(k - 1, COMMA) ? g.fail('trailing comma not allowed without surrounding parentheses', k - 1) : null;
    default:
      return null;
  }
}

// A compound statement's header ends at its ':' (token k).
function endHeader(g: GrammarState, k: number): SyntaxIssue | null {
  const s = g.stmt;
  const f = g.frames[0];
  if (s.kw === KW.with && f.asAt >= 0) {
    const err = targetError(g, f.asAt + 1, k, true, false);
    if (err) return g.fail(err, f.asAt + 1);
  }
  if (s.kw === KW.except) {
    if (g.isOp(s.start + 1, STAR) && k === s.start + 2) return g.fail('expected one or more exception types', k);
    if (s.topCommas > 0) return g.fail('multiple exception types must be parenthesized', s.start + 1);
    if (f.asAt >= 0 && !(f.asAt + 2 === k && g.isPlainName(f.asAt + 1))) return g.fail('invalid syntax', f.asAt + 1);
  }
  if (s.kw === KW.case && caseStarNeedsTuple(g)) return g.fail('invalid syntax', s.start + 1);
  return null;
}

// An expression statement: an augmented assignment or annotation has one plain target.
function assignmentError(g: GrammarState): SyntaxIssue | null {
  const s = g.stmt;
  if (s.firstAug >= 0) {
    const lhsEnd = s.firstTopComma >= 0 && s.firstTopComma < s.firstAug ? -1 : s.firstAug;
    const what = lhsEnd < 0 ? 'tuple' : notSingleTarget(g, s.start, lhsEnd);
    if (what) return g.fail(`'${what}' is an illegal expression for augmented assignment`, s.start);
  } else if (s.annColon >= 0 && (s.firstEq < 0 || s.annColon < s.firstEq)) {
    const what = s.firstTopComma >= 0 && s.firstTopComma < s.annColon ? 'tuple' : notSingleTarget(g, s.start, s.annColon);
    if (what === 'starred') return g.fail('invalid syntax', s.start);
    if (what) return g.fail(`only single target (not ${what}) can be annotated`, s.start);
  }
  return null;
}

/**
 * The NEWLINE token k ends a logical line. Returns the last token consumed
 * (the INDENT of a block the line opens, else k), or -1 with g.error set.
 */
export function endLine(g: GrammarState, k: number): number {
  const s = g.stmt;
  const p = k - 1;
  const headerLine = s.compound && s.headerDone && g.isOp(p, COLON);
  if (s.compound && !s.headerDone && s.start >= 0) {
    g.fail("expected ':'", k);
    return -1;
  }
  // A compound header was checked at its colon.
  if (!(s.compound && s.headerDone) && endStatement(g, k)) return -1;
  if (!headerLine && lineEndError(g, k)) return -1;
  // A decorator line is followed by a definition or another decorator.
  if (s.decorator && k + 1 < g.n && g.kind[k + 1] !== INDENT) {
    const next = k + 1;
    if (g.kind[next] === DEDENT) g.fail('unexpected unindent', next, k);
    else if (!(g.isOp(next, AT) || g.isKw(next, KW.def) || g.isKw(next, KW.class) || g.isKw(next, KW.async))) {
      g.fail('invalid syntax', next, k);
    }
    if (g.error) return -1;
  }
  s.decorator = false;
  g.stmtPending = true;
  g.lineStartPending = true;
  let last = k;
  // A header line must be followed by an indented block.
  if (headerLine) {
    if (k + 1 < g.n && g.kind[k + 1] !== INDENT) {
      const what = HEADER_NAMES[s.kw] ?? `'${g.text(s.start)}' statement`;
      g.fail(`expected an indented block after ${what} on line ${g.line[s.start]}`, k + 1);
      return -1;
    }
    if (k + 1 < g.n) {
      last = k + 1;
      openBlock(g, s.kw === KW.match);
    }
  }
  s.compound = false;
  s.start = -1;
  return last;
}

// tree-sitter continues an incomplete line onto the next one; CPython ends
// the logical line at NEWLINE k, so what precedes it must end a statement.
function lineEndError(g: GrammarState, k: number): SyntaxIssue | null {
  const p = k - 1;
  if (p < 0) return null;
  const kp = g.kind[p];
  if (kp === NEWLINE || kp === INDENT || kp === DEDENT || g.atomEnd(p) || g.isOp(p, SEMI)) return null;
  const kw = g.stmt.kw;
  const ok = g.isOp(p, COMMA)
    ? kw === 0 || kw === KW.return || kw === KW.del
    : g.isKw(p, KW.pass) || g.isKw(p, KW.break) || g.isKw(p, KW.continue) || g.isKw(p, KW.return) ||
      g.isKw(p, KW.raise) || g.isKw(p, KW.yield) || (g.isOp(p, STAR) && kw === KW.from && g.isKw(p - 1, KW.import));
  return ok ? null : g.fail('invalid syntax', k);
}

/** The `;` at k ends a simple statement. */
export function semicolon(g: GrammarState, k: number): SyntaxIssue | null {
  if (endStatement(g, k)) return g.error;
  g.stmt.start = -1;
  g.stmtPending = true;
  g.stmt.compound = false;
  return null;
}

/**
 * Operand adjacency at k: two operands in a row are never valid, except
 * implicit string concatenation and the soft keywords `match`/`case`.
 */
export function operandAdjacency(g: GrammarState, k: number): SyntaxIssue | null {
  const s = g.stmt;
  if (!(g.afterOperand && g.atomStart(k) && s.kw !== KW.import && s.kw !== KW.from)) return null;
  if (g.kind[k] === STRING && g.kind[k - 1] === STRING) return null;
  const word = g.text(k - 1);
  if (k - 1 === s.start && (word === 'print' || word === 'exec')) {
    return g.fail(`Missing parentheses in call to '${word}'. Did you mean ${word}(...)?`, k - 1);
  }
  return g.fail('invalid syntax', k);
}

/** The `,` at k separates the statement's top-level elements (f is the statement's frame). */
export function topLevelComma(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const s = g.stmt;
  s.topCommas++;
  if (s.firstTopComma < 0) s.firstTopComma = k;
  if (s.kw === KW.del) {
    const err = targetError(g, s.topElemStart, k, false, true);
    if (err) return g.fail(err, s.topElemStart);
  }
  if (s.kw === KW.with && !s.headerDone && f.asAt >= 0) {
    const err = targetError(g, f.asAt + 1, k, true, false);
    if (err) return g.fail(err, f.asAt + 1);
    f.asAt = -1;
  }
  s.topElemStart = k + 1;
  f.run = 0;
  return null;
}
