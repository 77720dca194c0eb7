// tree-sitter with the Python grammar, set up in one place for the syntax check and localization.
import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';
import { nativeCall } from '../thread-stop.ts';

/** A parser of its own for each user: a tree-sitter parser holds state between parses. */
export function newPythonParser(): Parser {
  const parser = new Parser();
  parser.setLanguage(Python as unknown as Parser.Language);
  return parser;
}

/**
 * parser.parse, marked as a native call: tree-sitter calls back into JavaScript while it parses, and
 * a worker thread terminated there would abort the process (thread-stop.ts).
 */
export function parseSource(parser: Parser, source: string, options?: Parser.Options): Parser.Tree {
  return nativeCall(() => parser.parse(source, null, options));
}
