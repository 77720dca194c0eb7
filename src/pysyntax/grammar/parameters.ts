// Parameter lists of `def` and `lambda`: the order of plain, default, `/`,
// `*`, `*args` and `**kwargs` parameters, with CPython's messages.

import { COLON, COMMA, DOUBLESTAR, EQUAL, LPAR, NAME, OP, RPAR, SLASH, STAR, type SyntaxIssue } from '../tokens.ts';
import { FrameKind, ParamKind, type Frame } from './frame.ts';
import type { GrammarState } from './state.ts';

/** The parameter being read ends at k (a `,`, `)` or a lambda's `:`). */
export function endParam(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const p = f.params!;
  if (p.current === ParamKind.Plain && !p.sawStar) {
    if (p.currentDefault) p.sawDefault = true;
    else if (p.sawDefault) return g.fail('non-default argument follows default argument', k);
  }
  p.current = ParamKind.None;
  p.currentDefault = false;
  p.currentAnnotated = false;
  return null;
}

/** The parameter list ends at k. */
export function endParams(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  if (endParam(g, f, k)) return g.error;
  if (f.params!.bareStarPending) return g.fail('named arguments must follow bare *', k);
  return null;
}

// What may follow a `*args`/`**kwargs` name: the next parameter, the end, an annotation.
const paramNameEnds = (g: GrammarState, k: number) => g.isOp(k, COMMA) || g.isOp(k, RPAR) || g.isOp(k, COLON);

/** A parameter of frame f begins at k. */
export function startParam(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const p = f.params!;
  if (g.kind[k] === OP && g.code[k] === SLASH) {
    if (p.count === 0) return g.fail('at least one argument must precede /', k);
    if (p.sawSlash) return g.fail('/ may appear only once', k);
    if (p.sawStar) return g.fail('/ must be ahead of *', k);
    p.sawSlash = true;
  } else if (g.isOp(k, STAR)) {
    if (p.sawStar) return g.fail('* argument may appear only once', k);
    if (p.sawDstar) return g.fail('arguments cannot follow var-keyword argument', k);
    p.sawStar = true;
    const next = k + 1;
    if (g.isOp(next, COMMA) || g.isOp(next, RPAR) || g.isOp(next, COLON)) p.bareStarPending = true;
    else {
      p.current = ParamKind.VarPositional;
      if (!g.isPlainName(next)) return g.fail('invalid syntax', next);
      if (g.isOp(next + 1, EQUAL)) return g.fail('var-positional argument cannot have default value', next + 1);
      if (!paramNameEnds(g, next + 1)) return g.fail('invalid syntax', next + 1);
    }
  } else if (g.isOp(k, DOUBLESTAR)) {
    if (p.sawDstar) return g.fail('arguments cannot follow var-keyword argument', k);
    if (p.bareStarPending) return g.fail('named arguments must follow bare *', k);
    p.sawDstar = true;
    p.current = ParamKind.VarKeyword;
    if (!g.isPlainName(k + 1)) return g.fail('invalid syntax', k + 1);
    if (g.isOp(k + 2, EQUAL)) return g.fail('var-keyword argument cannot have default value', k + 2);
    if (!paramNameEnds(g, k + 2)) return g.fail('invalid syntax', k + 2);
  } else if (g.isOp(k, LPAR)) {
    return g.fail(
      f.kind === FrameKind.Lambda ? 'Lambda expression parameters cannot be parenthesized' : 'Function parameters cannot be parenthesized',
      k,
    );
  } else if (g.kind[k] === NAME) {
    if (p.sawDstar) return g.fail('arguments cannot follow var-keyword argument', k);
    p.bareStarPending = false;
    p.current = ParamKind.Plain;
  }
  p.count++;
  return null;
}
