// Which location owns each line of a Python file, by LocAgent's rules, read off a tree-sitter tree.
//
// LocAgent looks at every class and function in the file (ast.walk), classes first:
//   - inside any class, the outermost one, C, decides: a line in a def directly in C's body (from
//     its `def` line to its last line; decorators lie outside) belongs to `C.m`, any other line of
//     C to nothing;
//   - otherwise the outermost function containing the line owns it, nested functions included;
//   - otherwise nothing (module level).
// Import statements, at any depth, own no line. Definitions inside `if`/`try`/`with` count like any
// other. A file's "defined locations" are every name these rules can produce for it.
import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';

export interface PythonOutline {
  /** `Class.method`, `function`, or null for a 0-based row. */
  locationAt(row: number): string | null;
  /** The row lies in an import statement. */
  isImport(row: number): boolean;
  /** The rules can produce `location` for some row of this file. */
  defines(location: string): boolean;
}

const parser = new Parser();
parser.setLanguage(Python as unknown as Parser.Language);

const DEF = 'function_definition';
const CLASS = 'class_definition';
const IMPORTS = ['import_statement', 'import_from_statement', 'future_import_statement'];
const TYPES = [DEF, CLASS, ...IMPORTS];

/** The class whose body holds `def` directly (through a decorator at most), if any. */
function directClass(def: Parser.SyntaxNode): Parser.SyntaxNode | null {
  let up = def.parent;
  if (up?.type === 'decorated_definition') up = up.parent;
  return up?.type === 'block' && up.parent?.type === CLASS ? up.parent : null;
}

function nameOf(node: Parser.SyntaxNode): string {
  return node.childForFieldName('name')?.text ?? '';
}

export function outlinePython(source: string): PythonOutline {
  const tree = parser.parse(source);
  const rows = tree.rootNode.endPosition.row + 1;
  const owner: (string | null)[] = new Array(rows).fill(null);
  const imports = new Uint8Array(rows);
  const defined = new Set<string>();
  const fill = (node: Parser.SyntaxNode, value: string | null) =>
    owner.fill(value, node.startPosition.row, node.endPosition.row + 1);

  // Nodes come in document order, so the enclosing ones are those on the stack that end after the
  // node starts. Functions fill first; the outermost classes then overwrite their whole range.
  const stack: Parser.SyntaxNode[] = [];
  const classes: Parser.SyntaxNode[] = [];
  const methods: [Parser.SyntaxNode, string][] = [];
  for (const node of tree.rootNode.descendantsOfType(TYPES)) {
    while (stack.length && stack[stack.length - 1].endIndex <= node.startIndex) stack.pop();
    if (IMPORTS.includes(node.type)) {
      imports.fill(1, node.startPosition.row, node.endPosition.row + 1);
      continue;
    }
    const inClass = stack.some((n) => n.type === CLASS);
    if (node.type === CLASS) {
      if (!inClass) classes.push(node);
    } else if (!inClass && !stack.some((n) => n.type === DEF)) {
      const name = nameOf(node);
      fill(node, name);
      defined.add(name);
    } else if (stack.filter((n) => n.type === CLASS).length === 1) {
      // The only enclosing class is an outermost one, so a def directly in a class body is its method.
      const cls = directClass(node);
      if (cls) methods.push([node, `${nameOf(cls)}.${nameOf(node)}`]);
    }
    stack.push(node);
  }
  for (const cls of classes) fill(cls, null);
  for (const [def, location] of methods) {
    fill(def, location);
    defined.add(location);
  }

  return {
    locationAt: (row) => owner[row] ?? null,
    isImport: (row) => imports[row] === 1,
    defines: (location) => defined.has(location),
  };
}
