// Bracket frames: opening one (what kind of list it is), its elements and
// their separators, and the checks made when it closes.

import { DOUBLESTAR, EQUAL, KW, LPAR, LSQB, NAME, RPAR, STAR, type SyntaxIssue } from '../tokens.ts';
import { Comp, FrameKind, frame, ParamState, type Frame } from './frame.ts';
import { endParam, endParams, startParam } from './parameters.ts';
import { inPattern, mappingKeyError, mappingRestNotLast } from './patterns.ts';
import type { GrammarState } from './state.ts';
import { topLevelComma } from './statements.ts';
import { targetError } from './targets.ts';

/** The bracket c at k opens a frame inside f. */
export function openBracket(g: GrammarState, f: Frame, k: number, c: number): SyntaxIssue | null {
  const s = g.stmt;
  const trailer = g.afterOperand;
  let fk: FrameKind;
  if (c === LPAR) {
    if (trailer) fk = g.isKw(k - 2, KW.def) ? FrameKind.Params : FrameKind.Call;
    else if (s.kw === KW.from && g.isKw(k - 1, KW.import)) fk = FrameKind.Import;
    else fk = FrameKind.Group;
  } else if (c === LSQB) {
    if (trailer && (g.isKw(k - 2, KW.def) || g.isKw(k - 2, KW.class))) {
      return g.fail(g.isKw(k - 2, KW.def) ? "expected '('" : 'invalid syntax', k);
    }
    fk = trailer ? FrameKind.Subscript : FrameKind.List;
  } else {
    fk = FrameKind.Brace;
  }
  g.bump(f);
  const nf = frame(fk, k, f.base + f.run);
  if (fk === FrameKind.Params) nf.params = new ParamState();
  if (fk === FrameKind.Group && s.kw === KW.with && !s.headerDone && f.kind === FrameKind.Stmt && g.isKw(k - 1, KW.with)) {
    nf.withItems = true;
  }
  g.frames.push(nf);
  return null;
}

/** The first token of an element of frame f. */
export function startElement(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  f.elemStart = false;
  if (f.kind === FrameKind.Params || f.kind === FrameKind.Lambda) return startParam(g, f, k);
  if (f.kind === FrameKind.Call) {
    if (g.isOp(k, RPAR)) return null;
    if (g.isOp(k, DOUBLESTAR)) f.sawDstar = true;
    else if (g.isOp(k, STAR)) {
      if (f.sawDstar) return g.fail('iterable argument unpacking follows keyword argument unpacking', k);
    } else if (g.kind[k] === NAME && g.isOp(k + 1, EQUAL)) f.sawKw = true;
    else if (f.sawDstar) return g.fail('positional argument follows keyword argument unpacking', k);
    else if (f.sawKw) return g.fail('positional argument follows keyword argument', k);
  }
  if (f.kind === FrameKind.Brace && inPattern(g)) return mappingKeyError(g, k);
  return null;
}

/** The `,` at k ends an element of frame f. */
export function comma(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  if (f.kind === FrameKind.Lambda || f.kind === FrameKind.Params) {
    if (endParam(g, f, k)) return g.error;
    f.elemStart = true;
    f.commas++;
  } else if (f.kind === FrameKind.Stmt) {
    return topLevelComma(g, f, k);
  } else if (f.comp === Comp.Iter || f.comp === Comp.Cond) {
    return g.fail('invalid syntax', k);
  } else if (f.comp === Comp.None) {
    if (f.withItems && endWithItem(g, f, k)) return g.error;
    f.starredSlice = false;
    if (mappingRestNotLast(g, f, k)) return g.error;
    f.commas++;
    f.elemStart = true;
    f.run = 0;
  }
  return null;
}

/** A with-item of a parenthesised group ends at k: its `as` target must be one. */
function endWithItem(g: GrammarState, f: Frame, k: number): SyntaxIssue | null {
  if (f.asAt < 0) return null;
  const err = targetError(g, f.asAt + 1, k, true, false);
  f.asAt = -1;
  return err ? g.fail(err, k) : null;
}

/** The closing bracket at k closes the innermost frame (and any lambdas in it). */
export function closeFrame(g: GrammarState, k: number): SyntaxIssue | null {
  const frames = g.frames;
  while (frames.length > 1 && g.top().kind === FrameKind.Lambda) frames.pop();
  const f = g.top();
  if (frames.length === 1) return null; // unmatched closer: the tokenizer reports it
  if (f.kind === FrameKind.Params && endParams(g, f, k)) return g.error;
  if (f.withItems && endWithItem(g, f, k)) return g.error;
  if (f.comp !== Comp.None && (f.starElem || f.dstarElem)) {
    return g.fail(
      f.dstarElem ? 'dict unpacking cannot be used in dict comprehension' : 'iterable unpacking cannot be used in comprehension',
      f.open,
    );
  }
  if (f.kind === FrameKind.Group && f.starElem && f.commas === 0 && f.comp === Comp.None) {
    return g.fail('cannot use starred expression here', f.open + 1);
  }
  g.match[f.open] = k;
  g.innerCommas[f.open] = f.commas;
  frames.pop();
  return null;
}
