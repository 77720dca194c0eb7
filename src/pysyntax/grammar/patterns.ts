// Case patterns (PEP 634): what tree-sitter-python's pattern grammar takes
// that CPython's does not. The brackets of a pattern are read as the frames
// of an expression; these rules tighten them where a pattern differs.

import { DOT, DOUBLESTAR, KW, NUMBER, PLUS_MINUS, RBRACE, STRING, type SyntaxIssue } from '../tokens.ts';
import { FrameKind, type Frame } from './frame.ts';
import type { GrammarState } from './state.ts';

/** Inside the patterns of a case clause (not its guard). */
export function inPattern(g: GrammarState): boolean {
  const s = g.stmt;
  return s.compound && s.kw === KW.case && !s.headerDone && !s.caseGuard;
}

/**
 * A mapping pattern's element at k begins with its key: a literal or a dotted
 * name (a value pattern), never a capture name, a wildcard or a group; or the
 * element is `**rest`.
 */
export function mappingKeyError(g: GrammarState, k: number): SyntaxIssue | null {
  const kd = g.kind[k];
  const ok = kd === NUMBER || kd === STRING || g.isOp(k, DOUBLESTAR) || g.isOp(k, RBRACE) ||
    (g.isOp(k, PLUS_MINUS) && g.text(k) === '-') || g.isKw(k, KW.None) || g.isKw(k, KW.True) || g.isKw(k, KW.False) ||
    (g.isPlainName(k) && g.isOp(k + 1, DOT));
  return ok ? null : g.fail('invalid syntax', k);
}

/** A mapping pattern's `**rest` comes last: the `,` at k ends it. */
export function mappingRestNotLast(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  if (f.kind === FrameKind.Brace && f.dstarElem && inPattern(g) && !g.isOp(k + 1, RBRACE)) {
    return g.fail('invalid syntax', k + 1);
  }
  return null;
}

/** Patterns allow `+`/`-` (at k, after an operand) only inside a complex literal: real +/- imaginary. */
export function complexLiteralError(g: GrammarState, k: number): SyntaxIssue | null {
  const imaginary = (j: number) => g.kind[j] === NUMBER && /[jJ]$/.test(g.text(j));
  if (g.kind[k - 1] !== NUMBER || imaginary(k - 1)) return g.fail('real number required in complex literal', k - 1);
  if (!imaginary(k + 1)) return g.fail('imaginary number required in complex literal', k + 1);
  return null;
}

/** `pattern as name` (the `as` at k) binds a name, never the wildcard. */
export function patternAsError(g: GrammarState, k: number): SyntaxIssue | null {
  return g.text(k + 1) === '_' ? g.fail("cannot use '_' as a target", k + 1) : null;
}

/** A case clause's starred pattern at the top level makes a sequence only with a comma (`case *a, b:`). */
export function caseStarNeedsTuple(g: GrammarState): boolean {
  return g.stmt.starTop && g.stmt.topCommas === 0;
}
