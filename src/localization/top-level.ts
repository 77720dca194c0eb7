// The statement layout of a Python file, found by a light lexical scan (strings, brackets,
// comments, backslash continuations), so that only the parts a patch touches need a tree-sitter
// parse: each top-level statement, and inside a top-level class, each member of its body.
//
// A logical line starts at a line whose first character is not white space or `#`, outside any
// string, bracket or continuation. A statement at some indentation starts at such a line with
// that indentation, unless the line is an `else`/`elif`/`except`/`finally` clause or follows a
// decorator. The scan can misjudge text Python reads differently: a 3.12 f-string that reuses its
// quote inside a replacement field. A wrong split leaves a string or bracket open at the end of one
// part and closes it in the next; when a parsed part shows an error the whole file does not have,
// outline.ts parses the whole file instead. Only a part that parses cleanly on its own (column-0
// code inside a string inside such an f-string) goes unnoticed. A missed split only makes a part
// larger.

/** A run of whole lines: character offsets (`start` at a line start), first row, and the row `end` is on. */
export interface Span {
  start: number;
  end: number;
  row: number;
  endRow: number;
}

export interface Member extends Span {
  /** The member is a def (with any decorators), so its lines can belong to `Class.member`. */
  isDef: boolean;
}

export interface Statement extends Span {
  /**
   * For a top-level class with an indented body: the `class` line (up to its body) and the body's
   * statements, so that one member can be parsed with its class line instead of the whole class.
   */
  split?: { header: Span; members: Member[] };
}

const NL = 10;
const CR = 13;
const BACKSLASH = 92;
const HASH = 35;
/** The characters that can change the scan's state; the regexes jump over everything else. */
const CODE_SPECIAL = /[\n#'"\\()[\]{}]/g;
const IN_DOUBLE = /["\\\n]/g;
const IN_SINGLE = /['\\\n]/g;
const HEAD = /(?:(class)|(def|async[ \t]+def)|(else|elif|except|finally))(?![\p{ID_Continue}])|(@)/uy;

const enum Head { Other, Class, Def, Clause, Decorator }

/**
 * The logical lines that can start a top-level statement or a member of a top-level class body:
 * every one at indentation 0, and inside a top-level class those at its body's indentation.
 * Offset of the line, its row, indentation width and first keyword.
 */
interface LogicalLines {
  offset: number[];
  row: number[];
  indent: number[];
  head: Head[];
  /** The row the text ends on. */
  endRow: number;
}

function next(re: RegExp, text: string, from: number): number {
  re.lastIndex = from;
  return re.exec(text)?.index ?? text.length;
}

function scanLogicalLines(text: string): LogicalLines {
  const lines: LogicalLines = { offset: [], row: [], indent: [], head: [], endRow: 0 };
  const n = text.length;
  let row = 0;
  let depth = 0;
  let continued = false;

  let inClass = false; // the current top-level statement is a class...
  let bodyIndent = -1; // ...whose body is indented this much (-1 until its first body line)

  const atLineStart = (i: number) => {
    if (depth === 0 && !continued && i < n) {
      let first = i;
      for (let c = text.charCodeAt(first); c === 32 || c === 9 || c === 12; c = text.charCodeAt(++first));
      const c = text.charCodeAt(first);
      const indent = first - i;
      if (first < n && c !== NL && c !== CR && c !== HASH && (indent === 0 || (inClass && (bodyIndent < 0 || indent === bodyIndent)))) {
        HEAD.lastIndex = first;
        const m = HEAD.exec(text);
        const head = !m ? Head.Other : m[1] ? Head.Class : m[2] ? Head.Def : m[3] ? Head.Clause : Head.Decorator;
        if (indent === 0) {
          inClass = head === Head.Class;
          bodyIndent = -1;
        } else if (bodyIndent < 0) {
          bodyIndent = indent;
        }
        lines.offset.push(i);
        lines.row.push(row);
        lines.indent.push(indent);
        lines.head.push(head);
      }
    }
    continued = false;
  };

  /** The offset just after the string literal whose opening quote is at `i`; counts its rows. */
  const skipString = (i: number): number => {
    const quote = text.charCodeAt(i);
    const triple = text.charCodeAt(i + 1) === quote && text.charCodeAt(i + 2) === quote;
    const re = quote === 34 ? IN_DOUBLE : IN_SINGLE;
    for (i += triple ? 3 : 1; i < n; ) {
      i = next(re, text, i);
      const c = text.charCodeAt(i);
      if (c === BACKSLASH) {
        if (text.charCodeAt(i + 1) === NL) row++;
        i += 2;
      } else if (c === NL) {
        if (!triple) return i; // an unterminated string ends with its line
        row++;
        i++;
      } else if (c !== quote) {
        i++;
      } else if (!triple) {
        return i + 1;
      } else if (text.charCodeAt(i + 1) === quote && text.charCodeAt(i + 2) === quote) {
        return i + 3;
      } else {
        i++;
      }
    }
    return n;
  };

  atLineStart(0);
  for (let i = next(CODE_SPECIAL, text, 0); i < n; i = next(CODE_SPECIAL, text, i)) {
    const c = text.charCodeAt(i);
    if (c === NL) {
      row++;
      atLineStart(++i);
    } else if (c === HASH) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === 34 || c === 39) {
      i = skipString(i);
    } else {
      if (c === 40 || c === 91 || c === 123) depth++;
      else if (c === 41 || c === 93 || c === 125) depth = Math.max(0, depth - 1);
      else if (text.charCodeAt(i + 1) === NL || (text.charCodeAt(i + 1) === CR && text.charCodeAt(i + 2) === NL)) {
        continued = true; // a backslash ending the line
      }
      i++;
    }
  }
  lines.endRow = row;
  return lines;
}

/** Indexes of the logical lines in [from, to) that start statements at indentation `indent`. */
function statementStarts(lines: LogicalLines, from: number, to: number, indent: number): number[] {
  const starts: number[] = [];
  let afterDecorator = false;
  for (let j = from; j < to; j++) {
    if (lines.indent[j] !== indent) continue;
    if (!afterDecorator && lines.head[j] !== Head.Clause) starts.push(j);
    afterDecorator = lines.head[j] === Head.Decorator;
  }
  return starts;
}

/** The top-level statements of `text`, in order; the first starts at offset 0. */
export function splitStatements(text: string): Statement[] {
  const lines = scanLogicalLines(text);
  const count = lines.offset.length;
  const offsetOf = (j: number) => (j < count ? lines.offset[j] : text.length);
  const rowOf = (j: number) => (j < count ? lines.row[j] : lines.endRow);
  const starts = statementStarts(lines, 0, count, 0);
  if (starts[0] !== 0) starts.unshift(0); // text before the first statement joins the first one
  const statements: Statement[] = [];
  for (let s = 0; s < starts.length; s++) {
    const first = starts[s];
    const last = s + 1 < starts.length ? starts[s + 1] : count; // one past the statement's lines
    const statement: Statement = {
      start: s === 0 ? 0 : offsetOf(first), end: offsetOf(last), row: s === 0 ? 0 : rowOf(first), endRow: rowOf(last),
    };
    // A class line, after any decorators, followed by an indented body of its own.
    let cls = first;
    while (cls < last && lines.head[cls] === Head.Decorator) cls++;
    const body = cls + 1;
    if (cls < last && lines.head[cls] === Head.Class && lines.indent[cls] === 0 && body < last && lines.indent[body] > 0) {
      const memberStarts = statementStarts(lines, body, last, lines.indent[body]);
      statement.split = {
        header: { start: offsetOf(cls), end: offsetOf(body), row: rowOf(cls), endRow: rowOf(body) },
        members: memberStarts.map((j, m) => {
          const memberEnd = m + 1 < memberStarts.length ? memberStarts[m + 1] : last;
          let head = j;
          while (head < memberEnd && lines.head[head] === Head.Decorator) head++;
          return {
            start: offsetOf(j), end: offsetOf(memberEnd), row: rowOf(j), endRow: rowOf(memberEnd), isDef: lines.head[head] === Head.Def,
          };
        }),
      };
    }
    statements.push(statement);
  }
  return statements;
}
