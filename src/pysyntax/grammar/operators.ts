// Operator tokens: brackets and separators go to their frame, `*` to the
// starred rules; here are the colon, assignments, `:=` and the operators
// tree-sitter-python takes and CPython 3.11 does not (`<>`, stray `$`, `?`).

import {
  AT, AUGASSIGN, BINOP, COLON, COLONEQUAL, COMMA, DOT, DOUBLESTAR, EQUAL, KW, LBRACE, LPAR, LSQB, NEWLINE, NOTEQUAL_LTGT,
  PLUS_MINUS, RARROW, RBRACE, RPAR, RSQB, SEMI, SLASH, STAR, TILDE, UNKNOWN_OP, type SyntaxIssue,
} from '../tokens.ts';
import { Comp, FrameKind, type Frame } from './frame.ts';
import { closeFrame, comma, openBracket } from './frames.ts';
import { endParams } from './parameters.ts';
import { complexLiteralError, inPattern } from './patterns.ts';
import { star } from './starred.ts';
import type { GrammarState } from './state.ts';
import { endStatement, semicolon } from './statements.ts';

/** The OP token k inside frame f. */
export function operator(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const c = g.code[k];
  switch (c) {
    case LPAR: case LSQB: case LBRACE:
      return openBracket(g, f, k, c);
    case RPAR: case RSQB: case RBRACE:
      return closeFrame(g, k);
    case COMMA:
      return comma(g, f, k);
    case COLON:
      return colon(g, f, k);
    case EQUAL:
      return equal(g, f, k);
    case AUGASSIGN:
      return augmentedAssignment(g, f, k);
    case COLONEQUAL:
      return walrus(g, f, k);
    case STAR: case DOUBLESTAR:
      return star(g, f, k, c);
    case SEMI:
      return semicolon(g, k);
    case DOT:
      // `from m import a.b`: only `import` takes dotted names.
      if (g.stmt.kw === KW.from && g.stmt.importAt >= 0) return g.fail('invalid syntax', k);
      g.bump(f);
      return null;
    case PLUS_MINUS:
      if (g.afterOperand && inPattern(g) && complexLiteralError(g, k)) return g.error;
      g.bump(f);
      return null;
    case TILDE: case BINOP: case SLASH: case AT: case RARROW:
      if (c === AT && g.stmtBegins) return null;
      g.bump(f);
      return null;
    case NOTEQUAL_LTGT:
    case UNKNOWN_OP:
      return g.fail('invalid syntax', k);
  }
  return null;
}

// `:` ends a lambda's parameters or a compound header, or annotates, or
// separates a dict key, a slice bound or a parameter's annotation.
function colon(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  if (f.kind === FrameKind.Lambda) {
    if (endParams(g, f, k)) return g.error;
    g.frames.pop();
  } else if (f.kind === FrameKind.Stmt) {
    return statementColon(g, f, k);
  } else if (f.kind === FrameKind.Brace && f.elemStart === false && f.comp === Comp.None) {
    f.isDict = true;
    if (f.starElem) return g.fail('invalid syntax', k);
    if (f.walrus) return g.fail('invalid syntax', k);
    f.run = 0;
  } else if (f.kind === FrameKind.Subscript) {
    if (f.starredSlice) return g.fail('invalid syntax', k); // `a[*b:c]`
    f.run = 0;
  } else if (f.kind === FrameKind.Params) {
    // tree-sitter reads `a: T *b: U` as `a: (T * b): U`.
    if (f.params!.currentAnnotated || f.params!.currentDefault) return g.fail('invalid syntax', k);
    f.params!.currentAnnotated = true;
  }
  return null;
}

function statementColon(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const s = g.stmt;
  if (s.compound && !s.headerDone) {
    s.headerDone = true;
    if (endStatement(g, k)) return g.error;
    // A one-line body: a new statement starts after the colon.
    if (!(k + 1 < g.n && g.kind[k + 1] === NEWLINE)) g.stmtPending = true;
  } else {
    // One annotation, before any `=` (tree-sitter takes `a: b: c`).
    if (s.firstEq >= 0 || s.annColon >= 0) return g.fail('invalid syntax', k);
    s.annColon = k;
    f.run = 0;
  }
  return null;
}

function equal(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const s = g.stmt;
  if (f.kind === FrameKind.Stmt) {
    if (s.firstAug >= 0) return g.fail('invalid syntax', k);
    if (s.firstEq < 0) s.firstEq = k;
    f.run = 0;
  } else if (f.kind === FrameKind.Params || f.kind === FrameKind.Lambda) {
    f.params!.currentDefault = true;
  } else if (f.kind !== FrameKind.Call) {
    // `=` inside brackets is a keyword argument or nothing; tree-sitter
    // also takes keyword patterns in sequence and mapping patterns.
    return g.fail('invalid syntax', k);
  }
  return null;
}

function augmentedAssignment(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const s = g.stmt;
  if (f.kind === FrameKind.Stmt) {
    // One augmented assignment, not chained with `=` or an annotation.
    if (s.firstAug >= 0 || s.firstEq >= 0 || s.annColon >= 0) return g.fail('invalid syntax', k);
    s.firstAug = k;
    f.run = 0;
  }
  return null;
}

// `:=` at k: only where CPython's named_expression stands, and never as a dict key.
function walrus(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  const s = g.stmt;
  const pp = k - 2;
  const fk = f.kind;
  let ok = false;
  if (g.isOp(pp, LPAR)) ok = fk === FrameKind.Call || fk === FrameKind.Group;
  else if (g.isOp(pp, LSQB)) ok = fk === FrameKind.List || fk === FrameKind.Subscript;
  else if (g.isOp(pp, LBRACE)) ok = fk === FrameKind.Brace;
  else if (g.isOp(pp, COMMA)) {
    ok = fk === FrameKind.Call || fk === FrameKind.Group || fk === FrameKind.List || fk === FrameKind.Subscript || fk === FrameKind.Brace;
  } else if (pp === s.start && fk === FrameKind.Stmt) {
    ok = g.isKw(pp, KW.if) || g.isKw(pp, KW.elif) || g.isKw(pp, KW.while) || g.isOp(pp, AT) || (s.compound && s.kw === KW.match);
  } else if (g.isKw(pp, KW.if) && fk === FrameKind.Stmt && s.compound && s.kw === KW.case) ok = true;
  if (!ok) return g.fail('invalid syntax', k);
  if (fk === FrameKind.Brace) {
    if (f.isDict) return g.fail('invalid syntax', k);
    f.walrus = true;
  }
  return null;
}
