// Block structure: indented blocks after a header line, and the order of a
// try statement's clauses, tracked per block depth.

import { KW, NAME, STAR, type SyntaxIssue } from '../tokens.ts';
import { type GrammarState, TryState } from './state.ts';

/** A new logical line at the current depth: try/except sequencing. */
export function beginLine(g: GrammarState, k: number): SyntaxIssue | null {
  const kw = g.kind[k] === NAME ? g.code[k] : 0;
  const st = g.blocks.tryState[g.blocks.depth] ?? TryState.None;
  if (st === TryState.AfterBody && kw !== KW.except && kw !== KW.finally) {
    return g.fail("expected 'except' or 'finally' block", k);
  }
  if (kw === KW.except) {
    const star = g.isOp(k + 1, STAR);
    if ((st === TryState.Except && star) || (st === TryState.ExceptStar && !star)) {
      return g.fail("cannot have both 'except' and 'except*' on the same 'try'", k);
    }
    g.blocks.tryState[g.blocks.depth] = star ? TryState.ExceptStar : TryState.Except;
  } else if (kw === KW.try) {
    g.blocks.tryState[g.blocks.depth] = TryState.AfterBody;
  } else if (kw === KW.else && (st === TryState.Except || st === TryState.ExceptStar)) {
    g.blocks.tryState[g.blocks.depth] = TryState.Else;
  } else {
    g.blocks.tryState[g.blocks.depth] = TryState.None;
  }
  return null;
}

/** The block a header line opened begins (its INDENT token). */
export function openBlock(g: GrammarState, isMatch: boolean): void {
  g.blocks.depth++;
  g.blocks.tryState[g.blocks.depth] = TryState.None;
  g.blocks.matchBody[g.blocks.depth] = isMatch;
}

/** A block ends at the DEDENT token k. */
export function dedent(g: GrammarState, k: number): SyntaxIssue | null {
  if (g.blocks.tryState[g.blocks.depth] === TryState.AfterBody) return g.fail("expected 'except' or 'finally' block", k);
  g.blocks.tryState[g.blocks.depth] = TryState.None;
  g.blocks.matchBody[g.blocks.depth] = false;
  g.blocks.depth--;
  return null;
}

/** The ENDMARKER token k: a try statement at the top level still needs its clauses. */
export function endOfInput(g: GrammarState, k: number): SyntaxIssue | null {
  if (g.blocks.tryState[0] === TryState.AfterBody) return g.fail("expected 'except' or 'finally' block", k);
  return null;
}
