// Block structure: indented blocks after a header line, and the order of a
// try statement's clauses, tracked per block depth.

import { KW, NAME, STAR, type SyntaxIssue } from '../tokens.ts';
import type { GrammarPass } from './pass.ts';

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

/** A new logical line at the current depth: try/except sequencing. */
export function beginLine(g: GrammarPass, k: number): SyntaxIssue | null {
  const kw = g.kind[k] === NAME ? g.code[k] : 0;
  const st = g.tryState[g.depth] ?? TryState.None;
  if (st === TryState.AfterBody && kw !== KW.except && kw !== KW.finally) {
    return g.fail("expected 'except' or 'finally' block", k);
  }
  if (kw === KW.except) {
    const star = g.isOp(k + 1, STAR);
    if ((st === TryState.Except && star) || (st === TryState.ExceptStar && !star)) {
      return g.fail("cannot have both 'except' and 'except*' on the same 'try'", k);
    }
    g.tryState[g.depth] = star ? TryState.ExceptStar : TryState.Except;
  } else if (kw === KW.try) {
    g.tryState[g.depth] = TryState.AfterBody;
  } else if (kw === KW.else && (st === TryState.Except || st === TryState.ExceptStar)) {
    g.tryState[g.depth] = TryState.Else;
  } else {
    g.tryState[g.depth] = TryState.None;
  }
  return null;
}

/** The block a header line opened begins (its INDENT token). */
export function openBlock(g: GrammarPass, isMatch: boolean): void {
  g.depth++;
  g.tryState[g.depth] = TryState.None;
  g.matchBody[g.depth] = isMatch;
}

/** A block ends at the DEDENT token k. */
export function dedent(g: GrammarPass, k: number): SyntaxIssue | null {
  if (g.tryState[g.depth] === TryState.AfterBody) return g.fail("expected 'except' or 'finally' block", k);
  g.tryState[g.depth] = TryState.None;
  g.matchBody[g.depth] = false;
  g.depth--;
  return null;
}

/** The ENDMARKER token k: a try statement at the top level still needs its clauses. */
export function endOfInput(g: GrammarPass, k: number): SyntaxIssue | null {
  if (g.tryState[0] === TryState.AfterBody) return g.fail("expected 'except' or 'finally' block", k);
  return null;
}
