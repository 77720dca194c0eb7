// tree-sitter with the Python grammar, set up in one place for the syntax check and localization.
import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';

/**
 * A parser of its own for each user: a tree-sitter parser holds state between parses. Whatever
 * parses or walks a tree runs inside nativeCall (thread-stop.ts): a worker thread terminated inside
 * any tree-sitter call aborts the whole process.
 */
export function newPythonParser(): Parser {
  const parser = new Parser();
  parser.setLanguage(Python as unknown as Parser.Language);
  return parser;
}

