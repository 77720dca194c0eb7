// Where the top-level statements of a Python file start, found by a light lexical scan (strings,
// brackets, comments, backslash continuations), so that only the statements a patch touches need
// a tree-sitter parse.
//
// A line starts a statement when it begins at column 0 with something other than white space or a
// comment, outside any string, bracket or continuation, and is neither an `else`/`elif`/`except`/
// `finally` clause nor the line after a decorator. The scan can misjudge text Python reads
// differently: a 3.12 f-string that reuses its quote inside a replacement field. A wrong split
// leaves a string or bracket open at the end of one piece and closes it in the next; when a parsed
// piece shows an error the whole file does not have, outline.ts parses the whole file instead. Only
// a piece that parses cleanly on its own (column-0 code inside a string inside such an f-string)
// goes unnoticed. A missed split only makes a piece larger.

const NL = 10;
const CR = 13;
const BACKSLASH = 92;
const HASH = 35;
const AT = 64;
const CLAUSES = /^(?:else|elif|except|finally)(?![\p{ID_Continue}])/u;
/** The characters that can change the scan's state; the regexes jump over everything else. */
const CODE_SPECIAL = /[\n#'"\\()[\]{}]/g;
const IN_DOUBLE = /["\\\n]/g;
const IN_SINGLE = /['\\\n]/g;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 12 || c === NL || c === CR;
}

function next(re: RegExp, text: string, from: number): number {
  re.lastIndex = from;
  return re.exec(text)?.index ?? text.length;
}

/** The offset just after the string literal whose opening quote is at `i`. */
function skipString(text: string, i: number): number {
  const quote = text.charCodeAt(i);
  const triple = text.charCodeAt(i + 1) === quote && text.charCodeAt(i + 2) === quote;
  const re = quote === 34 ? IN_DOUBLE : IN_SINGLE;
  for (i += triple ? 3 : 1; i < text.length; ) {
    i = next(re, text, i);
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i += 2;
    else if (c === NL && !triple) return i; // an unterminated string ends with its line
    else if (c !== quote) i++;
    else if (!triple) return i + 1;
    else if (text.charCodeAt(i + 1) === quote && text.charCodeAt(i + 2) === quote) return i + 3;
    else i++;
  }
  return text.length;
}

/** Character offsets where top-level statements start; the first is always 0. */
export function topLevelStarts(text: string): number[] {
  const starts = [0];
  const n = text.length;
  let depth = 0;
  let continued = false;
  let afterDecorator = false;
  const atLineStart = (i: number) => {
    const c = text.charCodeAt(i);
    if (i < n && depth === 0 && !continued && !isSpace(c) && c !== HASH) {
      if (!afterDecorator && i > 0 && !CLAUSES.test(text.slice(i, i + 8))) starts.push(i);
      afterDecorator = c === AT;
    }
    continued = false;
  };
  atLineStart(0);
  for (let i = next(CODE_SPECIAL, text, 0); i < n; i = next(CODE_SPECIAL, text, i)) {
    const c = text.charCodeAt(i);
    if (c === NL) {
      atLineStart(++i);
    } else if (c === HASH) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === 34 || c === 39) {
      i = skipString(text, i);
    } else {
      if (c === 40 || c === 91 || c === 123) depth++;
      else if (c === 41 || c === 93 || c === 125) depth = Math.max(0, depth - 1);
      else if (text.charCodeAt(i + 1) === NL || (text.charCodeAt(i + 1) === CR && text.charCodeAt(i + 2) === NL)) {
        continued = true; // a backslash ending the line
      }
      i++;
    }
  }
  return starts;
}
