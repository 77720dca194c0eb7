// Validity = CPython 3.11's `ast.parse` verdict, computed without Python.
//
// Three layers, cheapest first:
//   1. lexer.ts: CPython's tokenizer (indentation stack and tab rules,
//      brackets, literals, identifiers, its limits);
//   2. strings.ts + grammar/: what CPython's parser checks that
//      tree-sitter-python's permissive grammar does not (string contents,
//      f-string expressions, block structure, targets, argument and parameter
//      order, where `*`, `:=`, `yield`, `as` may appear, AST depth);
//   3. tree-sitter-python for the rest of the grammar (rootNode.hasError).
// Each layer reports its first error; the verdict carries the earliest one,
// except that CPython always reports the tokenizer errors it raises as
// exceptions (bad literals, characters, brackets), wherever they are.

import type Parser from 'tree-sitter';
import { newPythonParser } from '../python/parser.ts';
import { nativeCall } from '../thread-stop.ts';
import { LONE_SURROGATE } from '../python/text.ts';
import { checkGrammar } from './grammar/pass.ts';
import type { FStringExpr } from './fstrings.ts';
import { checkStringToken } from './strings.ts';
import { tokenize } from './lexer.ts';
import { STRING, type SyntaxIssue } from './tokens.ts';

export interface SyntaxVerdict { valid: boolean; line?: number; message?: string }

// Bounds on the cost of one verdict. Responses are scored on their first few
// thousand tokens, so real code is far below these sizes; hostile inputs get
// a clear verdict within about a second.
/** Past this size (UTF-16 units) only the tokenizer runs: its error, else "code too large to check". */
export const MAX_PARSE_CHARS = 512_000;
/** Past this size tree-sitter parses under a deadline, and is skipped once an error is known. */
const LARGE_INPUT_CHARS = 128_000;
/** Wall-clock budget for one tree-sitter parse of a large input. */
const PARSE_DEADLINE_MS = 800;

const parser = newPythonParser();

export function checkPythonSyntax(code: string): SyntaxVerdict {
  const issue = analyze(code);
  return issue ? { valid: false, line: issue.line, message: issue.message } : { valid: true };
}

function earliest(...issues: (SyntaxIssue | null)[]): SyntaxIssue | null {
  let best: SyntaxIssue | null = null;
  for (const i of issues) if (i && (!best || i.offset < best.offset)) best = i;
  return best;
}

function lineOf(src: string, offset: number): number {
  let line = 1;
  for (let k = src.indexOf('\n'); k >= 0 && k < offset; k = src.indexOf('\n', k + 1)) line++;
  return line;
}

const SURROGATE = /[\ud800-\udfff]/;

// What ast.parse rejects before tokenizing a str source.
function encodingIssue(code: string): SyntaxIssue | null {
  const nul = code.indexOf('\0');
  if (nul >= 0) {
    return { line: lineOf(code, nul), message: 'source code string cannot contain null bytes', offset: nul, overrides: true };
  }
  const lone = SURROGATE.test(code) ? LONE_SURROGATE.exec(code) : null;
  if (lone) {
    const hex = lone[0].charCodeAt(0).toString(16);
    return {
      line: lineOf(code, lone.index),
      message: `'utf-8' codec can't encode character '\\u${hex}': surrogates not allowed`,
      offset: lone.index,
      overrides: true,
    };
  }
  return null;
}

// CPython reads a str source with "\r\n" and "\r" as newlines and appends a
// final newline; tree-sitter gets the same text so both see the same lines.
function normalize(code: string): string {
  const src = code.includes('\r') ? code.replace(/\r\n?/g, '\n') : code;
  return src.endsWith('\n') ? src : src + '\n';
}

function analyze(code: string): SyntaxIssue | null {
  const bad = encodingIssue(code);
  if (bad) return bad;
  const src = normalize(code);

  const { tokens, error: tokError, joins } = tokenize(src);
  if (src.length > MAX_PARSE_CHARS) {
    return tokError ?? { line: 1, message: `code too large to check (${src.length} characters; limit ${MAX_PARSE_CHARS})`, offset: 0, overrides: false };
  }

  // String literal contents, implicit concatenation, f-string expressions.
  let stringError: SyntaxIssue | null = null;
  const exprs: FStringExpr[] = [];
  let prevBytes = -1;
  for (let k = 0; k < tokens.count && !stringError; k++) {
    if (tokens.kind[k] !== STRING) {
      prevBytes = -1;
      continue;
    }
    const check = checkStringToken(src, tokens.start[k], tokens.end[k], tokens.line[k], exprs);
    if (check.error) {
      stringError = { ...check.error, overrides: false };
    } else if (prevBytes >= 0 && prevBytes !== Number(check.bytes)) {
      stringError = { message: 'cannot mix bytes and nonbytes literals', line: tokens.line[k], offset: tokens.start[k], overrides: false };
    }
    prevBytes = Number(check.bytes);
    // tree-sitter-python's own f-string grammar rejects valid 3.11 forms
    // (`f'{x:=>10}'` reads as a walrus); the body was checked above.
    if (check.fstringBody) joins.push(check.fstringBody[0], check.fstringBody[1]);
  }
  const ruleError = checkGrammar(src, tokens, joins);

  // A tokenizer error CPython raises as an exception wins over any parser
  // error but "unexpected indent", which CPython reports without scanning on.
  if (tokError?.overrides) return isUnexpectedIndent(ruleError) ? ruleError : tokError;

  const fstringError = stringError || exprs.length === 0 ? null : checkFStringExpressions(src, exprs);
  let parseIssue = earliest(stringError, ruleError, fstringError);
  const large = src.length > LARGE_INPUT_CHARS;
  if (!(large && (parseIssue || tokError))) {
    const treeIssue = nativeCall(() => parseError(src, joins));
    // tree-sitter starts an ERROR node where its recovery began, often well
    // before the real error: an own error inside that span locates it better.
    const inSpan = (i: SyntaxIssue | null) => i !== null && treeIssue !== null && i.offset <= treeIssue.spanEnd;
    if (!inSpan(parseIssue) && !inSpan(tokError)) parseIssue = earliest(parseIssue, treeIssue);
  }
  if (!parseIssue || (tokError && tokError.offset <= parseIssue.offset)) return tokError ?? parseIssue;
  // After a parser error CPython tokenizes on; a bracket still open at the
  // end, opened on an earlier line, is reported instead. On the same line a
  // generic error most likely means the parser ran out of input in it.
  const before = tokError && (tokError.line < parseIssue.line || (tokError.line === parseIssue.line && parseIssue.message === 'invalid syntax'));
  if (tokError && before && UNCLOSED.test(tokError.message) && !isUnexpectedIndent(parseIssue)) {
    return tokError;
  }
  return parseIssue;
}

const UNCLOSED = / was never closed$/;
const isUnexpectedIndent = (i: SyntaxIssue | null): i is SyntaxIssue => i?.message === 'unexpected indent';

// src with the [start, end) pairs in `ranges` (disjoint, any order) replaced by spaces.
function blank(src: string, ranges: number[]): string {
  if (ranges.length === 0) return src;
  const order = Array.from({ length: ranges.length / 2 }, (_, k) => 2 * k).sort((a, b) => ranges[a] - ranges[b]);
  const parts: string[] = [];
  let last = 0;
  for (const k of order) {
    parts.push(src.slice(last, ranges[k]), ' '.repeat(ranges[k + 1] - ranges[k]));
    last = ranges[k + 1];
  }
  parts.push(src.slice(last));
  return parts.join('');
}

// CPython compiles each f-string expression as "(expression)". All of a
// source's expressions are checked in one pass over a synthetic module with
// one such line per expression: each is bracket-balanced (the f-string scanner
// checked), so an error stays within its own line.
function checkFStringExpressions(src: string, exprs: FStringExpr[]): SyntaxIssue | null {
  const parts: string[] = [];
  const firstLine: number[] = [];
  let line = 1;
  for (const e of exprs) {
    const text = src.slice(e.start, e.end);
    parts.push('(' + text + ')\n');
    firstLine.push(line);
    line += 1 + (text.match(/\n/g)?.length ?? 0);
  }
  const issue = analyze(parts.join(''));
  if (!issue) return null;
  let i = firstLine.length - 1;
  while (i > 0 && firstLine[i] > issue.line) i--;
  const e = exprs[i];
  // CPython prefixes the inner parser's errors, not its tokenizer's.
  const message = issue.overrides || issue.message.startsWith('f-string') ? issue.message : `f-string: ${issue.message}`;
  return { line: e.line + (issue.line - firstLine[i]), message, offset: e.start, overrides: false };
}

// tree-sitter-python has no `from __future__ import *` (CPython parses it and
// rejects it only when compiling): hand tree-sitter a plain module name of
// the same length instead, so offsets and lines stay the same.
const FUTURE_WILDCARD = /^([ \t]*from[ \t]+)__future__([ \t]+import[ \t]*\*)/gm;

// tree-sitter sees the source with each logical line on one physical line
// (see TokenizeResult.joins in tokens.ts) and without statement-level `*` (see
// checkGrammar); offsets are unchanged, lines come from `code`.
function parseError(code: string, joins: number[]): (SyntaxIssue & { spanEnd: number }) | null {
  let src = blank(code, joins);
  if (src.includes('__future__')) src = src.replace(FUTURE_WILDCARD, '$1_X_future_$2');
  let tree: Parser.Tree | undefined;
  if (src.length > LARGE_INPUT_CHARS) {
    const deadline = performance.now() + PARSE_DEADLINE_MS;
    tree = parser.parse(src, null, { progressCallback: () => performance.now() > deadline });
    if (!tree?.rootNode) {
      parser.reset();
      const message = `syntax check timed out after ${PARSE_DEADLINE_MS} ms`;
      return { line: 1, message, offset: 0, overrides: false, spanEnd: Infinity };
    }
  } else {
    tree = parser.parse(src);
  }
  const root = tree.rootNode;
  if (!root.hasError) return null;
  // Descend to the first ERROR or MISSING node, without recursion.
  const cursor = root.walk();
  for (;;) {
    const node = cursor.currentNode;
    if (node.isError || node.isMissing || !cursor.gotoFirstChild()) {
      const message = node.isMissing && node.type === ':' ? "expected ':'" : 'invalid syntax';
      return { line: lineOf(code, node.startIndex), message, offset: node.startIndex, overrides: false, spanEnd: node.endIndex };
    }
    while (!cursor.currentNode.hasError) {
      if (!cursor.gotoNextSibling()) {
        const at = { line: lineOf(code, node.startIndex), offset: node.startIndex, spanEnd: node.endIndex };
        return { ...at, message: 'invalid syntax', overrides: false };
      }
    }
  }
}
