// Starred elements: where `*x` and `**x` may appear (unpacking in displays,
// calls and targets, `*args` annotations), what they may star, and what
// cannot follow a starred bitwise-or operand.

import {
  AUGASSIGN, COLON, COMMA, COMPARE, DOUBLESTAR, EQUAL, KW, LBRACE, LPAR, LSQB, NAME, OP, PLUS_MINUS, STAR, TILDE,
  type SyntaxIssue,
} from '../tokens.ts';
import { Comp, FrameKind, ParamKind, type Frame } from './frame.ts';
import { inPattern } from './patterns.ts';
import type { GrammarState } from './state.ts';

/** The `*` or `**` (c) at k in frame f: a binary operator after an operand, else a star. */
export function star(g: GrammarState, f: Frame, k: number, c: number): SyntaxIssue | null {
  if (g.afterOperand) {
    g.bump(f);
    return null;
  }
  const p = k - 1;
  // Class patterns take no unpacking; nor do with-items with `as`.
  if ((f.kind === FrameKind.Call && inPattern(g)) || f.withAs) return g.fail('invalid syntax', k);
  if (!starAllowed(g, f, k, c)) return g.fail('invalid syntax', k);
  // What is starred: an expression in call arguments and subscripts,
  // else a bitwise-or operand (no `not`, no `lambda`).
  const next = k + 1;
  const starsExpression = f.kind === FrameKind.Call || f.kind === FrameKind.Subscript;
  const operand = next < g.n && (g.primaryStart(next) || g.isOp(next, PLUS_MINUS) || g.isOp(next, TILDE) || g.isKw(next, KW.await) ||
    (starsExpression && (g.isKw(next, KW.not) || g.isKw(next, KW.lambda))));
  const inParams = f.kind === FrameKind.Params || f.kind === FrameKind.Lambda;
  const importOrExcept = g.isKw(p, KW.import) || g.isKw(p, KW.except);
  if (!operand && !inParams && !importOrExcept) return g.fail('invalid syntax', next);
  // Calls and subscripts star a whole expression; elsewhere `*` and
  // dict's `**` take a bitwise-or operand.
  if (!starsExpression && !inParams && !importOrExcept) {
    const s = g.stmt;
    f.starOperand = true;
    f.starTarget = f.comp === Comp.Target || (f.kind === FrameKind.Stmt && s.kw === KW.for && !s.headerDone && s.forIn < 0);
  }
  return null;
}

// Whether a star (not a binary operator) may stand at k in frame f; records
// what it makes of the frame's current element.
function starAllowed(g: GrammarState, f: Frame, k: number, c: number): boolean {
  const p = k - 1;
  if (f.kind === FrameKind.Params || f.kind === FrameKind.Lambda) {
    // A parameter's own star was checked by startParam; inside one, only
    // `*args: *Ts` (PEP 646) takes a starred annotation.
    return g.elemFirst || (f.kind === FrameKind.Params && c === STAR && g.isOp(p, COLON) && f.params!.current === ParamKind.VarPositional);
  }
  if (c === DOUBLESTAR) {
    if (f.kind === FrameKind.Call && (g.isOp(p, LPAR) || g.isOp(p, COMMA))) return true;
    if (f.kind === FrameKind.Brace && (g.isOp(p, LBRACE) || g.isOp(p, COMMA)) && f.comp === Comp.None) {
      // In a mapping pattern, `**rest` captures a name (not `_`); a set
      // display (elements before it, none a key) takes no `**`.
      const ok = !f.starElem && !(inPattern(g) && g.text(k + 1) === '_') && !(f.commas > 0 && !f.isDict);
      f.isDict = true;
      f.dstarElem = true;
      return ok;
    }
    return false;
  }
  if (f.kind === FrameKind.Stmt) return statementStarAllowed(g, k, c);
  if ((g.isOp(p, LPAR) || g.isOp(p, LSQB) || g.isOp(p, LBRACE) || g.isOp(p, COMMA)) && f.comp === Comp.None) {
    f.starElem = true;
    if (f.kind === FrameKind.Subscript) {
      // tree-sitter-python stars only names, attributes and subscripts here.
      f.starredSlice = true;
      g.treeSitterBlanks.push(g.start[k], g.start[k] + 1);
    }
    return !(f.kind === FrameKind.Brace && f.isDict);
  }
  if (g.isKw(p, KW.for) || g.isKw(p, KW.yield)) return true;
  if (g.isKw(p, KW.as) && f.withItems) return true;
  return g.isOp(p, COMMA) && f.comp === Comp.Target;
}

// A `*` at statement level: starred assignment values and targets, return and
// yield values, for targets and iterables, patterns, `import *`, `except*`.
function statementStarAllowed(g: GrammarState, k: number, c: number): boolean {
  const s = g.stmt;
  const p = k - 1;
  let ok = false;
  if (g.stmtBegins) ok = true;
  else if (g.isOp(p, EQUAL) || g.isOp(p, AUGASSIGN)) ok = true;
  else if (g.isOp(p, COMMA)) ok = s.kw === 0 || s.kw === KW.return || s.kw === KW.for || s.kw === KW.match || s.kw === KW.case;
  else if (g.isKw(p, KW.return) || g.isKw(p, KW.yield) || g.isKw(p, KW.for) || g.isKw(p, KW.import) || g.isKw(p, KW.except)) ok = true;
  else if (g.isKw(p, KW.in)) ok = s.kw === KW.for && !s.headerDone;
  else if (g.isKw(p, KW.as)) ok = s.kw === KW.with && !s.headerDone; // `with a as *b:` (compile-time error)
  else if (p === s.start && s.compound && (s.kw === KW.match || s.kw === KW.case)) ok = true;
  if (ok && s.kw === KW.case) s.starTop = true;
  if (ok && c === STAR && !g.isKw(p, KW.import) && !g.isKw(p, KW.except)) g.treeSitterBlanks.push(g.start[k], g.start[k] + 1);
  return ok;
}

/**
 * The token k follows a starred bitwise-or operand in frame f: a comparison,
 * `and`, `or`, `not`, `is` cannot; `,`, `=`, `:`, an augmented assignment,
 * `in`, `if` and `for` end the starred element.
 */
export function endStarOperand(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const kd = g.kind[k];
  const c = g.code[k];
  if (kd === OP && c === COMPARE) return g.fail('invalid syntax', k);
  if (kd === NAME && (c === KW.and || c === KW.or || c === KW.not || c === KW.is)) return g.fail('invalid syntax', k);
  // `case *a, b if guard:` and `for *a, b in c:` end their starred element there.
  if (kd === NAME && c === KW.if && !(f.kind === FrameKind.Stmt && g.stmt.kw === KW.case)) return g.fail('invalid syntax', k);
  if (kd === NAME && c === KW.in && !f.starTarget) return g.fail('invalid syntax', k);
  if ((kd === OP && (c === COMMA || c === EQUAL || c === COLON || c === AUGASSIGN)) || (kd === NAME && (c === KW.in || c === KW.if || c === KW.for))) {
    f.starOperand = false;
  }
  return null;
}
