// Assignment and deletion targets: what CPython's invalid_assignment and
// invalid_del_stmt rules reject, with their messages.

import { COMMA, DOT, ELLIPSIS, KW, LBRACE, LPAR, LSQB, NAME, NUMBER, OP, STAR, STRING } from '../tokens.ts';
import type { GrammarState } from './state.ts';

/** What a target ends in: it is one only as a name, an attribute or a subscript. */
type TargetEnd = 'name' | 'literal' | 'call' | 'attr' | 'sub' | 'expr';

/**
 * Why an assignment/deletion target [a, b) is not one, or null when it is.
 * star: a starred element is allowed here (inside a target sequence).
 */
export function targetError(g: GrammarState, a: number, b: number, star: boolean, del: boolean): string | null {
  if (a >= b) return 'invalid syntax';
  if (g.isOp(a, STAR)) {
    if (!star) return del ? 'cannot delete starred' : 'starred assignment target must be in a list or tuple';
    return targetError(g, a + 1, b, false, del);
  }
  if ((g.isOp(a, LPAR) || g.isOp(a, LSQB)) && g.match[a] === b - 1) {
    if (g.isOp(a, LPAR) && g.innerCommas[a] === 0 && b - a > 2) return targetError(g, a + 1, b - 1, false, del);
    return sequenceError(g, a, b, del);
  }
  const verb = del ? 'cannot delete' : 'cannot assign to';
  const last = targetEnd(g, a, b);
  if (last === 'name' || last === 'attr' || last === 'sub') return null;
  if (last === 'call') return `${verb} function call`;
  if (last === 'literal') return `${verb} literal`;
  return `${verb} expression`;
}

// The elements of the bracketed target sequence [a, b).
function sequenceError(g: GrammarState, a: number, b: number, del: boolean): string | null {
  const { kind, code, match } = g;
  let e = a + 1;
  for (let j = a + 1; j <= b - 1; j++) {
    if (j < b - 1 && kind[j] === OP && (code[j] === LPAR || code[j] === LSQB || code[j] === LBRACE) && match[j] > 0) {
      j = match[j];
      continue;
    }
    if (j === b - 1 || g.isOp(j, COMMA)) {
      if (j > e) {
        const err = targetError(g, e, j, !del, del);
        if (err) return err;
      }
      e = j + 1;
    }
  }
  return null;
}

// [a, b) read as atom trailer*: what it ends in, or 'expr' when it is not of that form.
function targetEnd(g: GrammarState, a: number, b: number): TargetEnd {
  const { kind, code, match } = g;
  let j = a;
  let last: TargetEnd;
  if (kind[j] === NAME) {
    last = g.isPlainName(j) ? 'name' : code[j] === KW.None || code[j] === KW.True || code[j] === KW.False ? 'literal' : 'expr';
    if (last === 'expr') return 'expr';
    j++;
  } else if (kind[j] === NUMBER || kind[j] === STRING || g.isOp(j, ELLIPSIS)) {
    last = 'literal';
    j++;
    while (j < b && kind[j] === STRING) j++;
  } else if (kind[j] === OP && (code[j] === LPAR || code[j] === LSQB || code[j] === LBRACE) && match[j] > 0) {
    last = code[j] === LBRACE ? 'literal' : 'expr';
    j = match[j] + 1;
  } else {
    return 'expr';
  }
  while (j < b) {
    if (g.isOp(j, DOT) && j + 1 < b && kind[j + 1] === NAME) {
      last = 'attr';
      j += 2;
    } else if (g.isOp(j, LPAR) && match[j] > 0) {
      last = 'call';
      j = match[j] + 1;
    } else if (g.isOp(j, LSQB) && match[j] > 0) {
      last = 'sub';
      j = match[j] + 1;
    } else {
      return 'expr';
    }
  }
  return last;
}

/** What [a, b) is when it is not a single target: 'tuple', 'list', 'starred' or null. */
export function notSingleTarget(g: GrammarState, a: number, b: number): string | null {
  if (g.isOp(a, STAR)) return 'starred';
  if (g.isOp(a, LSQB) && g.match[a] === b - 1) return 'list';
  if (g.isOp(a, LPAR) && g.match[a] === b - 1) {
    if (g.innerCommas[a] > 0 || b - a === 2) return 'tuple';
    return notSingleTarget(g, a + 1, b - 1);
  }
  return null;
}
