// The bracket frames of the grammar pass: what kind of list the tokens are
// in, and what has been seen in its current element. The frame stack always
// holds the statement's own frame at the bottom (FrameKind.Stmt).

/** What a frame's elements are. */
export const FrameKind = {
  /** The statement itself (bottom of the stack). */
  Stmt: 0,
  Call: 1,
  /** A `def`'s parameter list. */
  Params: 2,
  /** A parenthesised group, tuple or generator. */
  Group: 3,
  List: 4,
  Subscript: 5,
  /** A dict or set display (or comprehension), or a mapping pattern. */
  Brace: 6,
  /** `from m import (...)`. */
  Import: 7,
  /** A lambda's parameters, up to its `:`. */
  Lambda: 8,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Where a frame is in a comprehension: `[target for x in iter if cond]`. */
export const Comp = { None: 0, Target: 1, Iter: 2, Cond: 3 } as const;
export type Comp = (typeof Comp)[keyof typeof Comp];

/** What the parameter being read is. */
export const ParamKind = { None: 0, Plain: 1, VarPositional: 2, VarKeyword: 3 } as const;
export type ParamKind = (typeof ParamKind)[keyof typeof ParamKind];

/** The order rules of a parameter list (`def` or `lambda`). */
export class ParamState {
  /** Parameters begun so far (`/` and a bare `*` count). */
  count = 0;
  sawSlash = false;
  sawStar = false;
  /** A bare `*` still needs a named parameter after it. */
  bareStarPending = false;
  sawDstar = false;
  /** A plain parameter before any `*` had a default: later ones need one too. */
  sawDefault = false;
  /** Kind of the parameter being read. */
  current: ParamKind = ParamKind.None;
  currentDefault = false;
  /** The parameter being read has its annotation (one `:` per parameter). */
  currentAnnotated = false;
}

export interface Frame {
  kind: FrameKind;
  /** The opening token. */
  open: number;
  /** The next token begins an element. */
  elemStart: boolean;
  /** Commas directly inside the frame. */
  commas: number;
  /** An element so far was `*x`, or `**x`. */
  starElem: boolean;
  dstarElem: boolean;
  /** A brace frame has a `key:` or `**x`: it is a dict (or a mapping pattern). */
  isDict: boolean;
  /** A brace frame has a `:=` element: it is a set. */
  walrus: boolean;
  comp: Comp;
  /** Call arguments so far include a keyword argument, or `**x`. */
  sawKw: boolean;
  sawDstar: boolean;
  /** For parameter frames (Params, Lambda): the order rules' state. */
  params: ParamState | null;
  /** A parenthesised group right after `with`: its elements are with-items. */
  withItems: boolean;
  /** A with-item group has an `as`: it is not a tuple, so it takes no starred element. */
  withAs: boolean;
  /** The `as` of the current with-item or except clause, or -1. */
  asAt: number;
  /** The current subscript element is starred (so it cannot be a slice). */
  starredSlice: boolean;
  /**
   * The current element is `*x` or `**x` where CPython stars a bitwise-or
   * operand: a comparison, `not`, `and`, `or` or `if` cannot follow it (nor
   * `in`, unless the element is a for-target).
   */
  starOperand: boolean;
  starTarget: boolean;
  /** AST depth below this frame's own node, and the current element's chain length. */
  base: number;
  run: number;
}

export function frame(kind: FrameKind, open: number, base: number): Frame {
  return {
    kind, open, elemStart: true, commas: 0, starElem: false, dstarElem: false, isDict: false, walrus: false,
    comp: Comp.None, sawKw: false, sawDstar: false, params: null, withItems: false, withAs: false, asAt: -1, starredSlice: false,
    starOperand: false, starTarget: false, base, run: 0,
  };
}
