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
//
// The rules never look across top-level statements, so the file is parsed piece by piece, one
// top-level statement at a time (top-level.ts), and only the pieces asked about. Pieces that parse
// with errors while the whole file parses cleanly mean the split went wrong: the whole file is
// then parsed once and used for everything.
import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';
import { topLevelStarts } from './top-level.ts';

export interface PythonOutline {
  /** `Class.method`, `function`, or null for a 0-based row. */
  locationAt(row: number): string | null;
  /** The row lies in an import statement. */
  isImport(row: number): boolean;
  /** The rules can produce `location` for some row of this file. */
  defines(location: string): boolean;
  /**
   * Parses, in one tree-sitter call, the pieces holding these rows and those that could define
   * these locations. The other methods parse what they lack themselves, a piece at a time.
   */
  prefetch(rows: Iterable<number>, locations?: Iterable<string>): void;
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

/** The last index `i` with `sorted[i] <= value` (sorted[0] <= value always holds here). */
function floorIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

class Outline implements PythonOutline {
  /** Character offset and row where each piece (a run of top-level statements) starts. */
  private readonly starts: number[];
  private readonly startRows: number[] = [];
  /** Row and column of the end of the text. */
  private readonly end: Parser.Point;
  private readonly loaded: Uint8Array;
  /** Filled piece by piece as pieces are parsed; all at once when `whole`. */
  private readonly owner: (string | null)[];
  private readonly imports: Uint8Array;
  private readonly defined = new Set<string>();
  private readonly definesCache = new Map<string, boolean>();
  private whole = false;

  constructor(private readonly source: string) {
    this.starts = topLevelStarts(source);
    let row = 0;
    let lineStart = 0;
    for (let k = 0, nl = source.indexOf('\n'); ; nl = source.indexOf('\n', lineStart)) {
      const next = nl < 0 ? Infinity : nl;
      while (k < this.starts.length && this.starts[k] <= next) this.startRows[k++] = row;
      if (nl < 0) break;
      row++;
      lineStart = nl + 1;
    }
    this.end = { row, column: source.length - lineStart };
    this.loaded = new Uint8Array(this.starts.length);
    this.owner = new Array(row + 1).fill(null);
    this.imports = new Uint8Array(row + 1);
  }

  locationAt(row: number): string | null {
    this.load([this.pieceOfRow(row)]);
    return this.owner[row] ?? null;
  }

  isImport(row: number): boolean {
    this.load([this.pieceOfRow(row)]);
    return this.imports[row] === 1;
  }

  defines(location: string): boolean {
    let known = this.definesCache.get(location);
    if (known === undefined) {
      this.load(this.candidates(location));
      known = this.defined.has(location);
      this.definesCache.set(location, known);
    }
    return known;
  }

  prefetch(rows: Iterable<number>, locations: Iterable<string> = []): void {
    const pieces: number[] = [];
    for (const row of rows) pieces.push(this.pieceOfRow(row));
    for (const location of locations) pieces.push(...this.candidates(location));
    this.load(pieces);
  }

  private pieceOfRow(row: number): number {
    return floorIndex(this.startRows, row);
  }

  /** Pieces that could define `location`: any definition of `C.m` has `class C` in its piece, any of `f` has `def f`. */
  private candidates(location: string): number[] {
    const dot = location.indexOf('.');
    const [keyword, name] = dot < 0 ? ['def', location] : ['class', location.slice(0, dot)];
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const header = new RegExp(`(?<![\\p{ID_Continue}])${keyword}[\\s\\\\]+${escaped}(?![\\p{ID_Continue}])`, 'gu');
    return [...this.source.matchAll(header)].map((m) => floorIndex(this.starts, m.index!));
  }

  private load(pieces: number[]): void {
    if (this.whole) return;
    const todo = [...new Set(pieces)].filter((k) => !this.loaded[k]).sort((a, b) => a - b);
    if (!todo.length) return;
    // Adjacent pieces merge into one range; the parser skips the text between ranges, and top-level
    // statements laid end to end are still a Python module.
    const ranges: Parser.Range[] = [];
    for (const k of todo) {
      const startIndex = this.starts[k];
      const endIndex = this.starts[k + 1] ?? this.source.length;
      const endPosition = k + 1 < this.starts.length ? { row: this.startRows[k + 1], column: 0 } : this.end;
      const last = ranges[ranges.length - 1];
      if (last && last.endIndex === startIndex) Object.assign(last, { endIndex, endPosition });
      else ranges.push({ startIndex, endIndex, startPosition: { row: this.startRows[k], column: 0 }, endPosition });
      this.loaded[k] = 1;
    }
    const tree = parser.parse(this.source, null, { includedRanges: ranges });
    if (tree.rootNode.hasError && this.wholeParsesCleanly()) {
      // The split was wrong: the pieces have errors that the whole file has not.
      this.whole = true;
      this.owner.fill(null);
      this.imports.fill(0);
      this.defined.clear();
      this.definesCache.clear();
      this.outline(parser.parse(this.source));
      return;
    }
    // Errors the whole file has too are tree-sitter's (it misreads some valid code, such as a
    // dedent inside brackets) or the file's own; parsed piece by piece they stay in their piece.
    this.outline(tree);
  }

  private wholeClean: boolean | undefined;

  private wholeParsesCleanly(): boolean {
    return (this.wholeClean ??= !parser.parse(this.source).rootNode.hasError);
  }

  private outline(tree: Parser.Tree): void {
    const fill = (node: Parser.SyntaxNode, value: string | null) =>
      this.owner.fill(value, node.startPosition.row, node.endPosition.row + 1);
    // Nodes come in document order, so the enclosing ones are those on the stack that end after
    // the node starts. Functions fill first; the outermost classes then overwrite their range.
    const stack: Parser.SyntaxNode[] = [];
    const classes: Parser.SyntaxNode[] = [];
    const methods: [Parser.SyntaxNode, string][] = [];
    for (const node of tree.rootNode.descendantsOfType(TYPES)) {
      while (stack.length && stack[stack.length - 1].endIndex <= node.startIndex) stack.pop();
      if (IMPORTS.includes(node.type)) {
        this.imports.fill(1, node.startPosition.row, node.endPosition.row + 1);
        continue;
      }
      const inClass = stack.some((n) => n.type === CLASS);
      if (node.type === CLASS) {
        if (!inClass) classes.push(node);
      } else if (!inClass && !stack.some((n) => n.type === DEF)) {
        const name = nameOf(node);
        fill(node, name);
        this.defined.add(name);
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
      this.defined.add(location);
    }
  }
}

export function outlinePython(source: string): PythonOutline {
  return new Outline(source);
}
