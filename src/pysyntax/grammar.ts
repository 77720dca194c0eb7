// Parser rules of CPython 3.11 that tree-sitter-python's grammar does not
// enforce, checked in one pass over the CPython token stream.
//
// tree-sitter-python is an error-tolerant superset grammar: it accepts
// Python 2 statements (`print x`, `exec "s"`), `type X = ...`, type
// parameters, `<>`, `as` anywhere in an expression, `:=` and `*expr` in any
// expression position, keyword arguments before positional ones, parameters
// in any order, and empty or unexpectedly indented blocks. Each rule below
// names the CPython behaviour it restores; messages follow CPython's wording.
//
// The pass keeps a stack of bracket frames (what kind of list the tokens are
// in: call arguments, parameters, a parenthesised group, a subscript, ...)
// and the state of the current statement; every rule looks at a token, its
// neighbours and those two. It runs on a token stream the tokenizer accepted
// up to its first error, so each token is seen once.

import {
  AT, AUGASSIGN, COLON, COLONEQUAL, COMMA, COMPARE, DEDENT, DOT, DOUBLESTAR, ELLIPSIS, ENDMARKER, EQUAL, INDENT,
  KW, LBRACE, LPAR, LSQB, NAME, NEWLINE, NOTEQUAL_LTGT, NUMBER, OP, PLUS_MINUS, BINOP, RARROW, RBRACE, RPAR,
  RSQB, SEMI, SLASH, SOFT_KEYWORD_MIN, STAR, STRING, TILDE, UNKNOWN_OP, type SyntaxIssue, type TokenBuffer,
} from './lexer.ts';

// Frame kinds.
const STMT = 0, CALL = 1, PARAMS = 2, GROUP = 3, LIST = 4, SUBSCRIPT = 5, BRACE = 6, IMPORT = 7, LAMBDA = 8;

// Comprehension phases inside a frame.
const COMP_NONE = 0, COMP_TARGET = 1, COMP_ITER = 2, COMP_COND = 3;

// try-statement state per block depth.
const TRY_NONE = 0, TRY_AFTER_BODY = 1, TRY_EXCEPT = 2, TRY_EXCEPT_STAR = 3, TRY_ELSE = 4;

// CPython turns an AST deeper than this into RecursionError/MemoryError
// (3 x the default recursion limit, less the caller's frames; measured with
// python3 3.11: 2985 nested unary operators under an expression statement).
const MAX_AST_DEPTH = 2988;

class ParamState {
  count = 0;
  sawSlash = false;
  sawStar = false;
  bareStarPending = false;
  sawDstar = false;
  sawDefault = false;
  /** Kind of the parameter being read: 0 none, 1 plain, 2 *args, 3 **kwargs. */
  current = 0;
  currentDefault = false;
  /** The parameter being read has its annotation (one `:` per parameter). */
  currentAnnotated = false;
}

interface Frame {
  kind: number;
  open: number;
  elemStart: boolean;
  commas: number;
  starElem: boolean;
  dstarElem: boolean;
  isDict: boolean;
  walrus: boolean;
  comp: number;
  sawKw: boolean;
  sawDstar: boolean;
  params: ParamState | null;
  withItems: boolean;
  /** A with-item group has an `as`: it is not a tuple, so it takes no starred element. */
  withAs: boolean;
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

function frame(kind: number, open: number, base: number): Frame {
  return {
    kind, open, elemStart: true, commas: 0, starElem: false, dstarElem: false, isDict: false, walrus: false,
    comp: COMP_NONE, sawKw: false, sawDstar: false, params: null, withItems: false, withAs: false, asAt: -1, starredSlice: false,
    starOperand: false, starTarget: false, base, run: 0,
  };
}

const HEADER_NAMES: Record<number, string> = {
  [KW.if]: "'if' statement", [KW.elif]: "'elif' statement", [KW.else]: "'else' statement",
  [KW.while]: "'while' statement", [KW.for]: "'for' statement", [KW.try]: "'try' statement",
  [KW.except]: "'except' statement", [KW.finally]: "'finally' statement", [KW.with]: "'with' statement",
  [KW.def]: 'function definition', [KW.class]: 'class definition', [KW.match]: "'match' statement",
  [KW.case]: "'case' statement",
};

/**
 * The first rule violation in the token stream, or null.
 * treeSitterBlanks receives [start, end) ranges to hide from tree-sitter:
 * the `*` of starred expressions at statement level, which CPython parses
 * with any operand but tree-sitter-python only before a name, attribute or
 * subscript (`x = *(a), b`, `for x in *(a):`). Their placement is checked here.
 */
export function checkGrammar(src: string, t: TokenBuffer, treeSitterBlanks: number[]): SyntaxIssue | null {
  const { kind, code, start, line } = t;
  const n = t.count;
  const match = new Int32Array(n).fill(-1);
  const innerCommas = new Int32Array(n);

  let error: SyntaxIssue | null = null;
  // at: the token CPython reports; orderAt: the token whose offset orders this
  // error against tree-sitter's (which starts where its recovery began).
  const fail = (message: string, at: number, orderAt = at): SyntaxIssue => {
    const a = Math.min(at, n - 1);
    error = { message, line: line[a], offset: start[Math.min(orderAt, n - 1)], overrides: false };
    return error;
  };

  const isKw = (k: number, kw: number) => k >= 0 && k < n && kind[k] === NAME && code[k] === kw;
  const isOp = (k: number, op: number) => k >= 0 && k < n && kind[k] === OP && code[k] === op;
  const isPlainName = (k: number) => kind[k] === NAME && (code[k] === 0 || code[k] >= SOFT_KEYWORD_MIN);
  const text = (k: number) => src.slice(start[k], t.end[k]);

  // An operand just ended: a binary operator or a trailer may follow.
  const atomEnd = (k: number): boolean => {
    if (k < 0) return false;
    const kd = kind[k];
    if (kd === NUMBER || kd === STRING) return true;
    if (kd === NAME) return isPlainName(k) || code[k] === KW.None || code[k] === KW.True || code[k] === KW.False;
    if (kd === OP) return code[k] === RPAR || code[k] === RSQB || code[k] === RBRACE || code[k] === ELLIPSIS;
    return false;
  };
  // Starts a new operand (so it cannot follow one).
  const atomStart = (k: number): boolean => {
    const kd = kind[k];
    if (kd === NUMBER || kd === STRING) return true;
    if (kd === NAME) {
      if (isPlainName(k)) return true;
      const c = code[k];
      if (c === KW.not) return !isKw(k + 1, KW.in);
      return c === KW.None || c === KW.True || c === KW.False || c === KW.lambda || c === KW.await || c === KW.yield;
    }
    return kd === OP && (code[k] === LBRACE || code[k] === ELLIPSIS);
  };
  // May begin a primary (what `await` applies to).
  const primaryStart = (k: number): boolean => {
    if (k >= n) return false;
    const kd = kind[k];
    if (kd === NUMBER || kd === STRING) return true;
    if (kd === NAME) return isPlainName(k) || code[k] === KW.None || code[k] === KW.True || code[k] === KW.False;
    return kd === OP && (code[k] === LPAR || code[k] === LSQB || code[k] === LBRACE || code[k] === ELLIPSIS);
  };

  // Block structure.
  let depth = 0;
  const tryState: number[] = [TRY_NONE];
  const matchBody: boolean[] = [false];
  let lineStartPending = true;

  // Statement state.
  let stmtStart = -1;
  let stmtKw = 0; // keyword code of the statement (soft keywords resolved), 0 for expressions
  let compound = false;
  let headerDone = false;
  let firstAug = -1;
  let annColon = -1;
  let firstEq = -1;
  let topCommas = 0;
  let firstTopComma = -1;
  let topElemStart = -1;
  let starTop = false;
  let forIn = -1; // the `in` of a for statement's header
  let importAt = -1;
  let caseGuard = false;
  let decorator = false;
  let stmtPending = true;

  const frames: Frame[] = [frame(STMT, -1, 0)];
  let maxDepthSeen = 0;

  const top = () => frames[frames.length - 1];
  // Inside the patterns of a case clause (not its guard).
  const inPattern = () => compound && stmtKw === KW.case && !headerDone && !caseGuard;

  // Chain-forming tokens (operators, trailers, brackets) deepen the AST; the
  // estimate counts them per element, which is exact for the single-operator
  // chains that reach CPython's limit and over-counts mixed precedence.
  const bump = (f: Frame) => {
    f.run++;
    const d = 2 + depth + f.base + f.run;
    if (d > maxDepthSeen) maxDepthSeen = d;
  };
  const tooDeep = (k: number) =>
    fail('too many nested expressions (CPython: "maximum recursion depth exceeded during ast construction")', k);

  // -- targets --------------------------------------------------------------

  // Why an assignment/deletion target [a, b) is not one, or null when it is.
  // star: a starred element is allowed here (inside a target sequence).
  const targetError = (a: number, b: number, star: boolean, del: boolean): string | null => {
    const verb = del ? 'cannot delete' : 'cannot assign to';
    if (a >= b) return 'invalid syntax';
    if (isOp(a, STAR)) {
      if (!star) return del ? 'cannot delete starred' : 'starred assignment target must be in a list or tuple';
      return targetError(a + 1, b, false, del);
    }
    if ((isOp(a, LPAR) || isOp(a, LSQB)) && match[a] === b - 1) {
      if (isOp(a, LPAR) && innerCommas[a] === 0 && b - a > 2) return targetError(a + 1, b - 1, false, del);
      let e = a + 1;
      for (let j = a + 1; j <= b - 1; j++) {
        if (j < b - 1 && kind[j] === OP && (code[j] === LPAR || code[j] === LSQB || code[j] === LBRACE) && match[j] > 0) {
          j = match[j];
          continue;
        }
        if (j === b - 1 || isOp(j, COMMA)) {
          if (j > e) {
            const err = targetError(e, j, !del, del);
            if (err) return err;
          }
          e = j + 1;
        }
      }
      return null;
    }
    // atom trailer*, ending in a name (no trailers), an attribute or a subscript.
    let j = a;
    let last: 'name' | 'literal' | 'call' | 'attr' | 'sub' | 'expr';
    if (kind[j] === NAME) {
      last = isPlainName(j) ? 'name' : code[j] === KW.None || code[j] === KW.True || code[j] === KW.False ? 'literal' : 'expr';
      if (last === 'expr') return `${verb} expression`;
      j++;
    } else if (kind[j] === NUMBER || kind[j] === STRING || isOp(j, ELLIPSIS)) {
      last = 'literal';
      j++;
      while (j < b && kind[j] === STRING) j++;
    } else if (kind[j] === OP && (code[j] === LPAR || code[j] === LSQB || code[j] === LBRACE) && match[j] > 0) {
      last = code[j] === LBRACE ? 'literal' : 'expr';
      j = match[j] + 1;
    } else {
      return `${verb} expression`;
    }
    while (j < b) {
      if (isOp(j, DOT) && j + 1 < b && kind[j + 1] === NAME) {
        last = 'attr';
        j += 2;
      } else if (isOp(j, LPAR) && match[j] > 0) {
        last = 'call';
        j = match[j] + 1;
      } else if (isOp(j, LSQB) && match[j] > 0) {
        last = 'sub';
        j = match[j] + 1;
      } else {
        return `${verb} expression`;
      }
    }
    if (last === 'name' || last === 'attr' || last === 'sub') return null;
    if (last === 'call') return `${verb} function call`;
    if (last === 'literal') return `${verb} literal`;
    return `${verb} expression`;
  };

  // What [a, b) is when it is not a single target: 'tuple', 'list', 'starred' or null.
  const notSingleTarget = (a: number, b: number): string | null => {
    if (isOp(a, STAR)) return 'starred';
    if (isOp(a, LSQB) && match[a] === b - 1) return 'list';
    if (isOp(a, LPAR) && match[a] === b - 1) {
      if (innerCommas[a] > 0 || b - a === 2) return 'tuple';
      return notSingleTarget(a + 1, b - 1);
    }
    return null;
  };

  // -- statements -----------------------------------------------------------

  // Tokens that cannot begin a statement (tree-sitter may attach them to the
  // previous line).
  const cannotStart = (k: number): boolean => {
    if (kind[k] === OP) {
      const o = code[k];
      return o === COMMA || o === COLON || o === EQUAL || o === SEMI || o === DOT || o === SLASH || o === BINOP ||
        o === COMPARE || o === RARROW || o === COLONEQUAL || o === AUGASSIGN || o === DOUBLESTAR || o === NOTEQUAL_LTGT;
    }
    return kind[k] === NAME && (code[k] === KW.and || code[k] === KW.or || code[k] === KW.in || code[k] === KW.is || code[k] === KW.as);
  };

  const beginStatement = (k: number): void => {
    stmtStart = k;
    stmtPending = false;
    headerDone = false;
    firstAug = annColon = firstEq = firstTopComma = -1;
    topCommas = 0;
    starTop = false;
    forIn = -1;
    importAt = -1;
    caseGuard = false;
    const f = frames[0];
    f.run = 0;
    f.asAt = -1;
    f.starOperand = false;
    topElemStart = k + 1;
    compound = false;
    stmtKw = kind[k] === NAME ? code[k] : 0;
    decorator = isOp(k, AT);
    switch (stmtKw) {
      case KW.if: case KW.elif: case KW.else: case KW.while: case KW.for: case KW.try: case KW.except:
      case KW.finally: case KW.with: case KW.def: case KW.class:
        compound = true;
        break;
      case KW.async:
        compound = true;
        if (k + 1 < n && kind[k + 1] === NAME) stmtKw = code[k + 1];
        break;
      case KW.match:
        compound = isMatchHeader(k);
        if (!compound) stmtKw = 0;
        break;
      case KW.case:
        compound = matchBody[depth] === true;
        if (!compound) stmtKw = 0;
        break;
      case KW.None: case KW.True: case KW.False: case KW.not: case KW.lambda: case KW.await: case KW.yield:
        stmtKw = 0; // an expression statement
        break;
      default:
        if (stmtKw >= SOFT_KEYWORD_MIN) stmtKw = 0;
    }
  };

  // `match` starts a match statement when its logical line ends with ':'.
  const isMatchHeader = (k: number): boolean => {
    let j = k + 1;
    while (j < n && kind[j] !== NEWLINE && kind[j] !== ENDMARKER) j++;
    return j < n && kind[j] === NEWLINE && isOp(j - 1, COLON) && j - 1 > k;
  };

  // Checks when a simple statement ends at token k (';', NEWLINE) or a
  // compound header ends at its ':'.
  const endStatement = (k: number): SyntaxIssue | null => {
    const f = frames[0];
    frames.length = 1;
    if (stmtStart < 0) return null;
    if (compound) {
      if (!headerDone) return null;
      if (stmtKw === KW.with && f.asAt >= 0) {
        const err = targetError(f.asAt + 1, k, true, false);
        if (err) return fail(err, f.asAt + 1);
      }
      if (stmtKw === KW.except) {
        if (isOp(stmtStart + 1, STAR) && k === stmtStart + 2) return fail('expected one or more exception types', k);
        if (topCommas > 0) return fail('multiple exception types must be parenthesized', stmtStart + 1);
        if (f.asAt >= 0 && !(f.asAt + 2 === k && isPlainName(f.asAt + 1))) return fail('invalid syntax', f.asAt + 1);
      }
      if (stmtKw === KW.case && starTop && topCommas === 0) return fail('invalid syntax', stmtStart + 1);
      return null;
    }
    switch (stmtKw) {
      case 0: {
        if (firstAug >= 0) {
          const lhsEnd = firstTopComma >= 0 && firstTopComma < firstAug ? -1 : firstAug;
          const what = lhsEnd < 0 ? 'tuple' : notSingleTarget(stmtStart, lhsEnd);
          if (what) return fail(`'${what}' is an illegal expression for augmented assignment`, stmtStart);
        } else if (annColon >= 0 && (firstEq < 0 || annColon < firstEq)) {
          const what = firstTopComma >= 0 && firstTopComma < annColon ? 'tuple' : notSingleTarget(stmtStart, annColon);
          if (what === 'starred') return fail('invalid syntax', stmtStart);
          if (what) return fail(`only single target (not ${what}) can be annotated`, stmtStart);
        }
        return null;
      }
      case KW.del: {
        if (k > topElemStart) {
          const err = targetError(topElemStart, k, false, true);
          if (err) return fail(err, topElemStart);
        }
        return null;
      }
      case KW.assert:
        return topCommas > 1 ? fail('invalid syntax', firstTopComma) : null;
      case KW.raise:
        return topCommas > 0 ? fail('invalid syntax', firstTopComma) : null;
      case KW.import:
        return isOp(k - 1, COMMA) ? fail('invalid syntax', k - 1) : null;
      case KW.from:
        if (importAt < 0) return fail('invalid syntax', k);
        return isOp(k - 1, COMMA) ? fail('trailing comma not allowed without surrounding parentheses', k - 1) : null;
      default:
        return null;
    }
  };

  // A new logical line at the current depth: try/except sequencing.
  const beginLine = (k: number): SyntaxIssue | null => {
    const kw = kind[k] === NAME ? code[k] : 0;
    const st = tryState[depth] ?? TRY_NONE;
    if (st === TRY_AFTER_BODY && kw !== KW.except && kw !== KW.finally) {
      return fail("expected 'except' or 'finally' block", k);
    }
    if (kw === KW.except) {
      const star = isOp(k + 1, STAR);
      if ((st === TRY_EXCEPT && star) || (st === TRY_EXCEPT_STAR && !star)) {
        return fail("cannot have both 'except' and 'except*' on the same 'try'", k);
      }
      tryState[depth] = star ? TRY_EXCEPT_STAR : TRY_EXCEPT;
    } else if (kw === KW.try) {
      tryState[depth] = TRY_AFTER_BODY;
    } else if (kw === KW.else && (st === TRY_EXCEPT || st === TRY_EXCEPT_STAR)) {
      tryState[depth] = TRY_ELSE;
    } else {
      tryState[depth] = TRY_NONE;
    }
    return null;
  };

  // -- frames -----------------------------------------------------------------

  const endParam = (f: Frame, k: number): SyntaxIssue | null => {
    const p = f.params!;
    if (p.current === 1 && !p.sawStar) {
      if (p.currentDefault) p.sawDefault = true;
      else if (p.sawDefault) return fail('non-default argument follows default argument', k);
    }
    p.current = 0;
    p.currentDefault = false;
    p.currentAnnotated = false;
    return null;
  };

  const endParams = (f: Frame, k: number): SyntaxIssue | null => {
    if (endParam(f, k)) return error;
    if (f.params!.bareStarPending) return fail('named arguments must follow bare *', k);
    return null;
  };

  // What may follow a `*args`/`**kwargs` name: the next parameter, the end, an annotation.
  const paramNameEnds = (k: number) => isOp(k, COMMA) || isOp(k, RPAR) || isOp(k, COLON);

  const startParam = (f: Frame, k: number): SyntaxIssue | null => {
    const p = f.params!;
    if (kind[k] === OP && code[k] === SLASH) {
      if (p.count === 0) return fail('at least one argument must precede /', k);
      if (p.sawSlash) return fail('/ may appear only once', k);
      if (p.sawStar) return fail('/ must be ahead of *', k);
      p.sawSlash = true;
    } else if (isOp(k, STAR)) {
      if (p.sawStar) return fail('* argument may appear only once', k);
      if (p.sawDstar) return fail('arguments cannot follow var-keyword argument', k);
      p.sawStar = true;
      const next = k + 1;
      if (isOp(next, COMMA) || isOp(next, RPAR) || isOp(next, COLON)) p.bareStarPending = true;
      else {
        p.current = 2;
        if (!isPlainName(next)) return fail('invalid syntax', next);
        if (isOp(next + 1, EQUAL)) return fail('var-positional argument cannot have default value', next + 1);
        if (!paramNameEnds(next + 1)) return fail('invalid syntax', next + 1);
      }
    } else if (isOp(k, DOUBLESTAR)) {
      if (p.sawDstar) return fail('arguments cannot follow var-keyword argument', k);
      if (p.bareStarPending) return fail('named arguments must follow bare *', k);
      p.sawDstar = true;
      p.current = 3;
      if (!isPlainName(k + 1)) return fail('invalid syntax', k + 1);
      if (isOp(k + 2, EQUAL)) return fail('var-keyword argument cannot have default value', k + 2);
      if (!paramNameEnds(k + 2)) return fail('invalid syntax', k + 2);
    } else if (isOp(k, LPAR)) {
      return fail(
        f.kind === LAMBDA ? 'Lambda expression parameters cannot be parenthesized' : 'Function parameters cannot be parenthesized',
        k,
      );
    } else if (kind[k] === NAME) {
      if (p.sawDstar) return fail('arguments cannot follow var-keyword argument', k);
      p.bareStarPending = false;
      p.current = 1;
    }
    p.count++;
    return null;
  };

  // The first token of an element of frame f.
  const startElement = (f: Frame, k: number): SyntaxIssue | null => {
    f.elemStart = false;
    if (f.kind === PARAMS || f.kind === LAMBDA) return startParam(f, k);
    if (f.kind === CALL) {
      if (isOp(k, RPAR)) return null;
      if (isOp(k, DOUBLESTAR)) f.sawDstar = true;
      else if (isOp(k, STAR)) {
        if (f.sawDstar) return fail('iterable argument unpacking follows keyword argument unpacking', k);
      } else if (kind[k] === NAME && isOp(k + 1, EQUAL)) f.sawKw = true;
      else if (f.sawDstar) return fail('positional argument follows keyword argument unpacking', k);
      else if (f.sawKw) return fail('positional argument follows keyword argument', k);
    }
    // A mapping pattern's key is a literal or a dotted name (a value pattern),
    // never a capture name, a wildcard or a group; or the element is `**rest`.
    if (f.kind === BRACE && inPattern()) {
      const kd = kind[k];
      const ok = kd === NUMBER || kd === STRING || isOp(k, DOUBLESTAR) || isOp(k, RBRACE) ||
        (isOp(k, PLUS_MINUS) && text(k) === '-') || isKw(k, KW.None) || isKw(k, KW.True) || isKw(k, KW.False) ||
        (isPlainName(k) && isOp(k + 1, DOT));
      if (!ok) return fail('invalid syntax', k);
    }
    return null;
  };

  const endWithItem = (f: Frame, k: number): SyntaxIssue | null => {
    if (f.asAt < 0) return null;
    const err = targetError(f.asAt + 1, k, true, false);
    f.asAt = -1;
    return err ? fail(err, k) : null;
  };

  const closeFrame = (k: number): SyntaxIssue | null => {
    while (frames.length > 1 && top().kind === LAMBDA) frames.pop();
    const f = top();
    if (frames.length === 1) return null; // unmatched closer: the tokenizer reports it
    if (f.kind === PARAMS && endParams(f, k)) return error;
    if (f.withItems && endWithItem(f, k)) return error;
    if (f.comp !== COMP_NONE && (f.starElem || f.dstarElem)) {
      return fail(
        f.dstarElem ? 'dict unpacking cannot be used in dict comprehension' : 'iterable unpacking cannot be used in comprehension',
        f.open,
      );
    }
    if (f.kind === GROUP && f.starElem && f.commas === 0 && f.comp === COMP_NONE) {
      return fail('cannot use starred expression here', f.open + 1);
    }
    match[f.open] = k;
    innerCommas[f.open] = f.commas;
    frames.pop();
    return null;
  };

  // -- the pass -----------------------------------------------------------------

  for (let k = 0; k < n; k++) {
    const kd = kind[k];
    const c = code[k];

    if (kd === NEWLINE) {
      const p = k - 1;
      const headerLine = compound && headerDone && isOp(p, COLON);
      if (compound && !headerDone && stmtStart >= 0) return fail("expected ':'", k);
      // A compound header was checked at its colon.
      if (!(compound && headerDone) && endStatement(k)) return error;
      // tree-sitter continues an incomplete line onto the next one; CPython
      // ends the logical line here, so what precedes NEWLINE must end a statement.
      if (p >= 0 && kind[p] !== NEWLINE && kind[p] !== INDENT && kind[p] !== DEDENT && !headerLine && !atomEnd(p) && !isOp(p, SEMI)) {
        const ok = isOp(p, COMMA)
          ? stmtKw === 0 || stmtKw === KW.return || stmtKw === KW.del
          : isKw(p, KW.pass) || isKw(p, KW.break) || isKw(p, KW.continue) || isKw(p, KW.return) ||
            isKw(p, KW.raise) || isKw(p, KW.yield) || (isOp(p, STAR) && stmtKw === KW.from && isKw(p - 1, KW.import));
        if (!ok) return fail('invalid syntax', k);
      }
      // A decorator line is followed by a definition or another decorator.
      if (decorator && k + 1 < n && kind[k + 1] !== INDENT) {
        const next = k + 1;
        if (kind[next] === DEDENT) return fail('unexpected unindent', next, k);
        if (!(isOp(next, AT) || isKw(next, KW.def) || isKw(next, KW.class) || isKw(next, KW.async))) return fail('invalid syntax', next, k);
      }
      decorator = false;
      stmtPending = true;
      lineStartPending = true;
      // A header line must be followed by an indented block.
      if (headerLine) {
        if (k + 1 < n && kind[k + 1] !== INDENT) {
          const what = HEADER_NAMES[stmtKw] ?? `'${text(stmtStart)}' statement`;
          return fail(`expected an indented block after ${what} on line ${line[stmtStart]}`, k + 1);
        }
        if (k + 1 < n) {
          k++;
          depth++;
          tryState[depth] = TRY_NONE;
          matchBody[depth] = stmtKw === KW.match;
        }
      }
      compound = false;
      stmtStart = -1;
      continue;
    }
    if (kd === INDENT) return fail('unexpected indent', k);
    if (kd === DEDENT) {
      if (tryState[depth] === TRY_AFTER_BODY) return fail("expected 'except' or 'finally' block", k);
      tryState[depth] = TRY_NONE;
      matchBody[depth] = false;
      depth--;
      continue;
    }
    if (kd === ENDMARKER) {
      if (tryState[0] === TRY_AFTER_BODY) return fail("expected 'except' or 'finally' block", k);
      break;
    }

    if (lineStartPending) {
      lineStartPending = false;
      if (beginLine(k)) return error;
    }
    const stmtBegins = stmtPending;
    if (stmtPending) {
      if (cannotStart(k)) return fail('invalid syntax', k);
      beginStatement(k);
    }

    const f = top();
    // `match`/`case` opening their statement are keywords, not operands.
    const afterOperand = !stmtBegins && atomEnd(k - 1) &&
      !(k - 1 === stmtStart && compound && (stmtKw === KW.match || stmtKw === KW.case));
    const elemFirst = f.elemStart;
    if (f.elemStart && f.kind !== STMT) {
      // An empty element: tree-sitter accepts `f(,)` and `{,}`.
      if (isOp(k, COMMA)) return fail('invalid syntax', k);
      if (startElement(f, k)) return error;
    }
    if (isOp(k, COMMA) && isOp(k - 1, COMMA)) return fail('invalid syntax', k);

    if (f.starOperand) {
      if (kd === OP && c === COMPARE) return fail('invalid syntax', k);
      if (kd === NAME && (c === KW.and || c === KW.or || c === KW.not || c === KW.is)) return fail('invalid syntax', k);
      // `case *a, b if guard:` and `for *a, b in c:` end their starred element there.
      if (kd === NAME && c === KW.if && !(f.kind === STMT && stmtKw === KW.case)) return fail('invalid syntax', k);
      if (kd === NAME && c === KW.in && !f.starTarget) return fail('invalid syntax', k);
      if ((kd === OP && (c === COMMA || c === EQUAL || c === COLON || c === AUGASSIGN)) || (kd === NAME && (c === KW.in || c === KW.if || c === KW.for))) {
        f.starOperand = false;
      }
    }

    // Operand adjacency: two operands in a row are never valid, except
    // implicit string concatenation and the soft keywords `match`/`case`.
    if (afterOperand && atomStart(k) && stmtKw !== KW.import && stmtKw !== KW.from) {
      const concat = kd === STRING && kind[k - 1] === STRING;
      if (!concat) {
        const word = text(k - 1);
        if (k - 1 === stmtStart && (word === 'print' || word === 'exec')) {
          return fail(`Missing parentheses in call to '${word}'. Did you mean ${word}(...)?`, k - 1);
        }
        return fail('invalid syntax', k);
      }
    }

    if (kd === NAME) {
      switch (c) {
        case KW.lambda: {
          bump(f);
          const lf = frame(LAMBDA, k, f.base + f.run);
          lf.params = new ParamState();
          frames.push(lf);
          if (isOp(k + 1, COLON)) lf.elemStart = false;
          break;
        }
        case KW.yield: {
          const p = k - 1;
          const ok = stmtBegins ||
            (f.kind === STMT && (isOp(p, EQUAL) || isOp(p, AUGASSIGN))) ||
            (f.kind === GROUP && isOp(p, LPAR));
          if (!ok) return fail('invalid syntax', k);
          break;
        }
        case KW.await:
          if (!primaryStart(k + 1)) return fail('invalid syntax', k + 1);
          bump(f);
          break;
        case KW.async:
          if (!(isKw(k + 1, KW.def) || isKw(k + 1, KW.for) || isKw(k + 1, KW.with))) return fail('invalid syntax', k);
          break;
        case KW.not:
          if (!isKw(k + 1, KW.in)) bump(f);
          break;
        case KW.if:
          if (f.kind === STMT && compound && stmtKw === KW.case) caseGuard = true;
          if (!stmtBegins && f.kind !== STMT && f.comp !== COMP_NONE) f.comp = COMP_COND;
          else if (!stmtBegins && !(compound && stmtKw === KW.case && f.kind === STMT)) bump(f);
          break;
        case KW.for:
          if (f.kind !== STMT && !stmtBegins) f.comp = COMP_TARGET;
          break;
        case KW.in:
          if (f.comp === COMP_TARGET) f.comp = COMP_ITER;
          if (f.kind === STMT && stmtKw === KW.for && forIn < 0) forIn = k;
          break;
        case KW.def:
          if (isPlainName(k + 1) && !isOp(k + 2, LPAR)) return fail("expected '('", k + 2);
          break;
        case KW.from:
          if (isKw(k - 1, KW.raise)) return fail('invalid syntax', k);
          break;
        case KW.import:
          if (stmtKw === KW.from) importAt = k;
          break;
        case KW.as: {
          let ok = false;
          if (stmtKw === KW.import || stmtKw === KW.from) ok = f.kind === STMT || f.kind === IMPORT;
          else if (stmtKw === KW.with && !headerDone) {
            if (f.kind === STMT || f.withItems) {
              ok = !f.starElem;
              f.asAt = k;
              f.withAs = f.withItems;
            }
          } else if (stmtKw === KW.except && !headerDone) {
            ok = f.kind === STMT;
            f.asAt = k;
          } else if (inPattern()) {
            if (text(k + 1) === '_') return fail("cannot use '_' as a target", k + 1);
            ok = true;
          }
          if (!ok) return fail('invalid syntax', k);
          break;
        }
      }
      if (maxDepthSeen > MAX_AST_DEPTH) return tooDeep(k);
      continue;
    }
    if (kd !== OP) continue;

    switch (c) {
      case LPAR: case LSQB: case LBRACE: {
        const trailer = afterOperand;
        let fk: number;
        if (c === LPAR) {
          if (trailer) fk = isKw(k - 2, KW.def) ? PARAMS : CALL;
          else if (stmtKw === KW.from && isKw(k - 1, KW.import)) fk = IMPORT;
          else fk = GROUP;
        } else if (c === LSQB) {
          if (trailer && (isKw(k - 2, KW.def) || isKw(k - 2, KW.class))) {
            return fail(isKw(k - 2, KW.def) ? "expected '('" : 'invalid syntax', k);
          }
          fk = trailer ? SUBSCRIPT : LIST;
        } else {
          fk = BRACE;
        }
        bump(f);
        const nf = frame(fk, k, f.base + f.run);
        if (fk === PARAMS) nf.params = new ParamState();
        if (fk === GROUP && stmtKw === KW.with && !headerDone && f.kind === STMT && (isKw(k - 1, KW.with))) {
          nf.withItems = true;
        }
        frames.push(nf);
        break;
      }
      case RPAR: case RSQB: case RBRACE:
        if (closeFrame(k)) return error;
        break;
      case COMMA:
        if (f.kind === LAMBDA || f.kind === PARAMS) {
          if (endParam(f, k)) return error;
          f.elemStart = true;
          f.commas++;
        } else if (f.kind === STMT) {
          topCommas++;
          if (firstTopComma < 0) firstTopComma = k;
          if (stmtKw === KW.del) {
            const err = targetError(topElemStart, k, false, true);
            if (err) return fail(err, topElemStart);
          }
          if (stmtKw === KW.with && !headerDone && f.asAt >= 0) {
            const err = targetError(f.asAt + 1, k, true, false);
            if (err) return fail(err, f.asAt + 1);
            f.asAt = -1;
          }
          topElemStart = k + 1;
          f.run = 0;
        } else if (f.comp === COMP_ITER || f.comp === COMP_COND) {
          return fail('invalid syntax', k);
        } else if (f.comp === COMP_NONE) {
          if (f.withItems && endWithItem(f, k)) return error;
          f.starredSlice = false;
          // A mapping pattern's `**rest` comes last.
          if (f.kind === BRACE && f.dstarElem && inPattern() && !isOp(k + 1, RBRACE)) {
            return fail('invalid syntax', k + 1);
          }
          f.commas++;
          f.elemStart = true;
          f.run = 0;
        }
        break;
      case COLON:
        if (f.kind === LAMBDA) {
          if (endParams(f, k)) return error;
          frames.pop();
        } else if (f.kind === STMT) {
          if (compound && !headerDone) {
            headerDone = true;
            if (endStatement(k)) return error;
            // A one-line body: a new statement starts after the colon.
            if (!(k + 1 < n && kind[k + 1] === NEWLINE)) stmtPending = true;
          } else {
            // One annotation, before any `=` (tree-sitter takes `a: b: c`).
            if (firstEq >= 0 || annColon >= 0) return fail('invalid syntax', k);
            annColon = k;
            f.run = 0;
          }
        } else if (f.kind === BRACE && f.elemStart === false && f.comp === COMP_NONE) {
          f.isDict = true;
          if (f.starElem) return fail('invalid syntax', k);
          if (f.walrus) return fail('invalid syntax', k);
          f.run = 0;
        } else if (f.kind === SUBSCRIPT) {
          if (f.starredSlice) return fail('invalid syntax', k); // `a[*b:c]`
          f.run = 0;
        } else if (f.kind === PARAMS) {
          // tree-sitter reads `a: T *b: U` as `a: (T * b): U`.
          if (f.params!.currentAnnotated || f.params!.currentDefault) return fail('invalid syntax', k);
          f.params!.currentAnnotated = true;
        }
        break;
      case EQUAL:
        if (f.kind === STMT) {
          if (firstAug >= 0) return fail('invalid syntax', k);
          if (firstEq < 0) firstEq = k;
          f.run = 0;
        } else if (f.kind === PARAMS || f.kind === LAMBDA) {
          f.params!.currentDefault = true;
        } else if (f.kind !== CALL) {
          // `=` inside brackets is a keyword argument or nothing; tree-sitter
          // also takes keyword patterns in sequence and mapping patterns.
          return fail('invalid syntax', k);
        }
        break;
      case AUGASSIGN:
        if (f.kind === STMT) {
          // One augmented assignment, not chained with `=` or an annotation.
          if (firstAug >= 0 || firstEq >= 0 || annColon >= 0) return fail('invalid syntax', k);
          firstAug = k;
          f.run = 0;
        }
        break;
      case COLONEQUAL: {
        const pp = k - 2;
        let ok = false;
        if (isOp(pp, LPAR)) ok = f.kind === CALL || f.kind === GROUP;
        else if (isOp(pp, LSQB)) ok = f.kind === LIST || f.kind === SUBSCRIPT;
        else if (isOp(pp, LBRACE)) ok = f.kind === BRACE;
        else if (isOp(pp, COMMA)) ok = f.kind === CALL || f.kind === GROUP || f.kind === LIST || f.kind === SUBSCRIPT || f.kind === BRACE;
        else if (pp === stmtStart && f.kind === STMT) {
          ok = isKw(pp, KW.if) || isKw(pp, KW.elif) || isKw(pp, KW.while) || isOp(pp, AT) ||
            (compound && stmtKw === KW.match);
        } else if (isKw(pp, KW.if) && f.kind === STMT && compound && stmtKw === KW.case) ok = true;
        if (!ok) return fail('invalid syntax', k);
        if (f.kind === BRACE) {
          if (f.isDict) return fail('invalid syntax', k);
          f.walrus = true;
        }
        break;
      }
      case STAR: case DOUBLESTAR: {
        if (afterOperand) {
          bump(f);
          break;
        }
        const p = k - 1;
        let ok = false;
        // Class patterns take no unpacking; nor do with-items with `as`.
        if ((f.kind === CALL && inPattern()) || f.withAs) return fail('invalid syntax', k);
        if (f.kind === PARAMS || f.kind === LAMBDA) {
          // A parameter's own star was checked by startParam; inside one, only
          // `*args: *Ts` (PEP 646) takes a starred annotation.
          ok = elemFirst || (f.kind === PARAMS && c === STAR && isOp(p, COLON) && f.params!.current === 2);
        }
        else if (c === DOUBLESTAR) {
          if (f.kind === CALL && (isOp(p, LPAR) || isOp(p, COMMA))) ok = true;
          else if (f.kind === BRACE && (isOp(p, LBRACE) || isOp(p, COMMA)) && f.comp === COMP_NONE) {
            // In a mapping pattern, `**rest` captures a name (not `_`); a set
            // display (elements before it, none a key) takes no `**`.
            ok = !f.starElem && !(inPattern() && text(k + 1) === '_') && !(f.commas > 0 && !f.isDict);
            f.isDict = true;
            f.dstarElem = true;
          }
        } else if (f.kind === STMT) {
          if (stmtBegins) ok = true;
          else if (isOp(p, EQUAL) || isOp(p, AUGASSIGN)) ok = true;
          else if (isOp(p, COMMA)) ok = stmtKw === 0 || stmtKw === KW.return || stmtKw === KW.for || stmtKw === KW.match || stmtKw === KW.case;
          else if (isKw(p, KW.return) || isKw(p, KW.yield) || isKw(p, KW.for) || isKw(p, KW.import) || isKw(p, KW.except)) ok = true;
          else if (isKw(p, KW.in)) ok = stmtKw === KW.for && !headerDone;
          else if (isKw(p, KW.as)) ok = stmtKw === KW.with && !headerDone; // `with a as *b:` (compile-time error)
          else if (p === stmtStart && compound && (stmtKw === KW.match || stmtKw === KW.case)) ok = true;
          if (ok && stmtKw === KW.case) starTop = true;
          if (ok && c === STAR && !isKw(p, KW.import) && !isKw(p, KW.except)) treeSitterBlanks.push(start[k], start[k] + 1);
        } else if ((isOp(p, LPAR) || isOp(p, LSQB) || isOp(p, LBRACE) || isOp(p, COMMA)) && f.comp === COMP_NONE) {
          ok = !(f.kind === BRACE && f.isDict);
          f.starElem = true;
          if (f.kind === SUBSCRIPT) {
            // tree-sitter-python stars only names, attributes and subscripts here.
            f.starredSlice = true;
            treeSitterBlanks.push(start[k], start[k] + 1);
          }
        } else if (isKw(p, KW.for) || isKw(p, KW.yield)) ok = true;
        else if (isKw(p, KW.as) && f.withItems) ok = true;
        else if (isOp(p, COMMA) && f.comp === COMP_TARGET) ok = true;
        if (!ok) return fail('invalid syntax', k);
        // What is starred: an expression in call arguments and subscripts,
        // else a bitwise-or operand (no `not`, no `lambda`).
        const next = k + 1;
        const operand = next < n && (primaryStart(next) || isOp(next, PLUS_MINUS) || isOp(next, TILDE) || isKw(next, KW.await) ||
          ((f.kind === CALL || f.kind === SUBSCRIPT) && (isKw(next, KW.not) || isKw(next, KW.lambda))));
        if (!operand && f.kind !== PARAMS && f.kind !== LAMBDA && !isKw(p, KW.import) && !isKw(p, KW.except)) {
          return fail('invalid syntax', next);
        }
        // Calls and subscripts star a whole expression; elsewhere `*` and
        // dict's `**` take a bitwise-or operand.
        if (f.kind !== CALL && f.kind !== SUBSCRIPT && f.kind !== PARAMS && f.kind !== LAMBDA && !isKw(p, KW.import) && !isKw(p, KW.except)) {
          f.starOperand = true;
          f.starTarget = f.comp === COMP_TARGET || (f.kind === STMT && stmtKw === KW.for && !headerDone && forIn < 0);
        }
        break;
      }
      case SEMI:
        if (endStatement(k)) return error;
        stmtStart = -1;
        stmtPending = true;
        compound = false;
        break;
      case DOT:
        // `from m import a.b`: only `import` takes dotted names.
        if (stmtKw === KW.from && importAt >= 0) return fail('invalid syntax', k);
        bump(f);
        break;
      case PLUS_MINUS:
        // Patterns allow `+`/`-` only inside a complex literal: real +/- imaginary.
        if (afterOperand && inPattern()) {
          const imaginary = (j: number) => kind[j] === NUMBER && /[jJ]$/.test(text(j));
          if (kind[k - 1] !== NUMBER || imaginary(k - 1)) return fail('real number required in complex literal', k - 1);
          if (!imaginary(k + 1)) return fail('imaginary number required in complex literal', k + 1);
        }
        bump(f);
        break;
      case TILDE: case BINOP: case SLASH: case AT: case RARROW:
        if (c === AT && stmtBegins) break;
        bump(f);
        break;
      case NOTEQUAL_LTGT:
        return fail('invalid syntax', k);
      case UNKNOWN_OP:
        return fail('invalid syntax', k);
    }
    if (maxDepthSeen > MAX_AST_DEPTH) return tooDeep(k);
  }
  return error;
}
