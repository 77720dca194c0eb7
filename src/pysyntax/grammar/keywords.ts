// Keywords inside a statement: where `yield`, `await`, `async`, `from` and
// `as` may appear, lambdas (which open a parameter frame), comprehension
// clauses, and the statement state that `if`, `in` and `import` move on.

import { AUGASSIGN, COLON, EQUAL, KW, LPAR, type SyntaxIssue } from '../tokens.ts';
import { Comp, FrameKind, frame, ParamState, type Frame } from './frame.ts';
import { inPattern, patternAsError } from './patterns.ts';
import type { GrammarState } from './state.ts';

/** The NAME token k (a keyword or a plain name) inside frame f. */
export function keyword(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const s = g.stmt;
  switch (g.code[k]) {
    case KW.lambda:
      openLambda(g, f, k);
      return null;
    case KW.yield: {
      const p = k - 1;
      const ok = g.stmtBegins ||
        (f.kind === FrameKind.Stmt && (g.isOp(p, EQUAL) || g.isOp(p, AUGASSIGN))) ||
        (f.kind === FrameKind.Group && g.isOp(p, LPAR));
      return ok ? null : g.fail('invalid syntax', k);
    }
    case KW.await:
      if (!g.primaryStart(k + 1)) return g.fail('invalid syntax', k + 1);
      g.bump(f);
      return null;
    case KW.async:
      if (!(g.isKw(k + 1, KW.def) || g.isKw(k + 1, KW.for) || g.isKw(k + 1, KW.with))) return g.fail('invalid syntax', k);
      return null;
    case KW.not:
      if (!g.isKw(k + 1, KW.in)) g.bump(f);
      return null;
    case KW.if:
      ifKeyword(g, f);
      return null;
    case KW.for:
      if (f.kind !== FrameKind.Stmt && !g.stmtBegins) f.comp = Comp.Target;
      return null;
    case KW.in:
      if (f.comp === Comp.Target) f.comp = Comp.Iter;
      if (f.kind === FrameKind.Stmt && s.kw === KW.for && s.forIn < 0) s.forIn = k;
      return null;
    case KW.def:
      return g.isPlainName(k + 1) && !g.isOp(k + 2, LPAR) ? g.fail("expected '('", k + 2) : null;
    case KW.from:
      return g.isKw(k - 1, KW.raise) ? g.fail('invalid syntax', k) : null;
    case KW.import:
      if (s.kw === KW.from) s.importAt = k;
      return null;
    case KW.as:
      return asKeyword(g, f, k);
  }
  return null;
}

// A lambda's parameters, up to its `:`, are a frame of their own.
function openLambda(g: GrammarState, f: Frame, k: number): void {
  g.bump(f);
  const lf = frame(FrameKind.Lambda, k, f.base + f.run);
  lf.params = new ParamState();
  g.frames.push(lf);
  if (g.isOp(k + 1, COLON)) lf.elemStart = false;
}

// `if`: a case clause's guard, a comprehension's condition, or a conditional expression.
function ifKeyword(g: GrammarState, f: Frame): void {
  const s = g.stmt;
  const caseHeader = s.compound && s.kw === KW.case && f.kind === FrameKind.Stmt;
  if (caseHeader) s.caseGuard = true;
  if (!g.stmtBegins && f.kind !== FrameKind.Stmt && f.comp !== Comp.None) f.comp = Comp.Cond;
  else if (!g.stmtBegins && !caseHeader) g.bump(f);
}

// `as` at k: in imports, with-items, except clauses and patterns only.
function asKeyword(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const s = g.stmt;
  let ok = false;
  if (s.kw === KW.import || s.kw === KW.from) ok = f.kind === FrameKind.Stmt || f.kind === FrameKind.Import;
  else if (s.kw === KW.with && !s.headerDone) {
    if (f.kind === FrameKind.Stmt || f.withItems) {
      ok = !f.starElem;
      f.asAt = k;
      f.withAs = f.withItems;
    }
  } else if (s.kw === KW.except && !s.headerDone) {
    ok = f.kind === FrameKind.Stmt;
    f.asAt = k;
  } else if (inPattern(g)) {
    if (patternAsError(g, k)) return g.error;
    ok = true;
  }
  return ok ? null : g.fail('invalid syntax', k);
}
