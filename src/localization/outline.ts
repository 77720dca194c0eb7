// Which location owns each line of a Python file, by LocAgent's rules, read off a tree-sitter tree.
//
// LocAgent looks at every class and function in the file (ast.walk), classes first:
//   - inside any class, the outermost one, C, decides: a line in a def directly in C's body (from
//     its `def` line to its last line; decorators lie outside) belongs to `C.m`, any other line of
//     C to nothing;
//   - otherwise the outermost function containing the line owns it, nested functions included;
//   - otherwise nothing (module level).
// Lines of import statements and of class docstrings, at any depth, own nothing either (LocAgent
// skips them even inside a method). Definitions inside `if`/`try`/`with` count like any other. A
// file's "defined locations" are every name these rules can produce for it.
//
// The rules never look across top-level statements, nor, inside a top-level class, across the
// statements of its body. So the file is parsed in parts (top-level.ts), and only the parts asked
// about: a top-level statement, or one def of a class body together with its `class` line. Lines
// of a class body outside its defs belong to nothing and need no parse at all. Parts that parse
// with errors while the whole file parses cleanly mean the split went wrong: the whole file is
// then parsed once and used for everything. Errors the whole file has too (tree-sitter misreads
// some valid code, such as a dedent inside brackets) stay inside their part that way.
import type Parser from 'tree-sitter';
import { newPythonParser } from '../python/parser.ts';
import { nativeCall } from '../thread-stop.ts';
import { splitStatements, type Member, type Span, type Statement } from './top-level.ts';

export interface PythonOutline {
  /** `Class.method`, `function`, or null for a 0-based row. */
  locationAt(row: number): string | null;
  /** The rules can produce `location` for some row of this file. */
  defines(location: string): boolean;
  /**
   * Parses, in one tree-sitter call, the parts holding these rows and those that could define
   * these locations. The other methods parse what they lack themselves, a part at a time.
   */
  prefetch(rows: Iterable<number>, locations?: Iterable<string>): void;
}

const parser = newPythonParser();

const DEF = 'function_definition';
const CLASS = 'class_definition';
const IMPORTS = ['import_statement', 'import_from_statement', 'future_import_statement'];
/** String prefixes that make a class's first statement no docstring (ast.get_docstring wants a str constant). */
const NOT_DOCSTRING = /^[a-zA-Z]*[fFbB]/;
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

/** The docstring statement of a class: a first statement that is a plain string literal. */
function docstringOf(cls: Parser.SyntaxNode): Parser.SyntaxNode | null {
  let first = cls.childForFieldName('body')?.firstNamedChild ?? null;
  while (first?.type === 'comment') first = first.nextNamedSibling;
  if (first?.type !== 'expression_statement' || first.namedChildCount !== 1) return null;
  const value = first.firstNamedChild!;
  const parts = value.type === 'string' ? [value] : value.type === 'concatenated_string' ? value.namedChildren : [];
  const plain = parts.length > 0 && parts.every((p) => p.type === 'string' && !NOT_DOCSTRING.test(p.firstChild?.text ?? ''));
  return plain ? first : null;
}

/** The last index in [0, n) that `holds` (true up to some index, false after it), or -1. */
function lastWhere(n: number, holds: (i: number) => boolean): number {
  let lo = -1;
  for (let hi = n - 1; lo < hi; ) {
    const mid = (lo + hi + 1) >> 1;
    if (holds(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The last index `i` with `sorted[i] <= value`; `sorted[0]` is 0, so there is one. */
function floorIndex(sorted: readonly number[], value: number): number {
  return lastWhere(sorted.length, (i) => sorted[i] <= value);
}

/** A part parsed on its own: statement `k` whole (member -1), or def member `j` of split class `k`. */
type Unit = number;
const MEMBERS = 0x100000;
const unit = (k: number, j: number): Unit => k * MEMBERS + j + 1;

class Outline implements PythonOutline {
  private readonly statements: Statement[];
  private readonly statementRows: number[];
  private readonly statementStarts: number[];
  /** Row and column of the end of the text. */
  private readonly end: Parser.Point;
  private readonly loaded = new Set<Unit>();
  /** Filled part by part as parts are parsed; all at once when `whole`. */
  private readonly owner: (string | null)[];
  private readonly defined = new Set<string>();
  private readonly definesCache = new Map<string, boolean>();
  private readonly candidatesCache = new Map<string, Unit[]>();
  private whole = false;
  private wholeClean: boolean | undefined;
  /** Where each `class name` and `def name` is written, read in one pass when first needed. */
  private headers: HeaderIndex | undefined;

  constructor(private readonly source: string) {
    this.statements = splitStatements(source);
    this.statementRows = this.statements.map((s) => s.row);
    this.statementStarts = this.statements.map((s) => s.start);
    const rows = this.statements[this.statements.length - 1].endRow;
    this.end = { row: rows, column: source.length - (source.lastIndexOf('\n') + 1) };
    this.owner = new Array(rows + 1).fill(null);
  }

  locationAt(row: number): string | null {
    if (!this.whole) {
      const u = this.unitOfRow(row);
      if (u === null) return null;
      this.load([u]);
    }
    return this.owner[row] ?? null;
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
    const units: Unit[] = [];
    for (const row of rows) {
      const u = this.unitOfRow(row);
      if (u !== null) units.push(u);
    }
    for (const location of locations) units.push(...this.candidates(location));
    this.load(units);
  }

  /** The part to parse for a row; null for the rows of a split class outside its defs (they own nothing). */
  private unitOfRow(row: number): Unit | null {
    return this.unitAt(floorIndex(this.statementRows, row), (m) => m.row <= row);
  }

  private unitOfOffset(offset: number): Unit | null {
    return this.unitAt(floorIndex(this.statementStarts, offset), (m) => m.start <= offset);
  }

  /** The unit of statement `k` at the last member `reached`; null for a class line or a member that is no def. */
  private unitAt(k: number, reached: (m: Member) => boolean): Unit | null {
    const split = this.statements[k].split;
    if (!split) return unit(k, -1);
    const j = lastWhere(split.members.length, (i) => reached(split.members[i]));
    return j >= 0 && split.members[j].isDef ? unit(k, j) : null;
  }

  /**
   * Parts that could define `location`: any definition of `C.m` is a `def m` in a statement that
   * holds `class C`, any of `f` is a `def f`.
   */
  private candidates(location: string): Unit[] {
    let units = this.candidatesCache.get(location);
    if (!units) this.candidatesCache.set(location, (units = this.findCandidates(location)));
    return units;
  }

  private findCandidates(location: string): Unit[] {
    const dot = location.indexOf('.');
    const cls = dot < 0 ? null : location.slice(0, dot);
    const fn = dot < 0 ? location : location.slice(dot + 1);
    const headers = (this.headers ??= indexHeaders(this.source));
    // Where to look for `def fn`: the statements that hold `class cls`, or the whole text.
    const regions: [number, number][] = cls === null
      ? [[0, this.source.length]]
      : [...new Set((headers.class.get(cls) ?? []).map((at) => floorIndex(this.statementStarts, at)))]
        .map((k) => [this.statements[k].start, this.statements[k].end]);
    const defs = headers.def.get(fn) ?? [];
    const units: Unit[] = [];
    for (const [start, end] of regions) {
      for (const at of defs) {
        if (at < start || at >= end) continue;
        const u = this.unitOfOffset(at);
        if (u !== null) units.push(u);
      }
    }
    return units;
  }

  private spansOf(u: Unit): Span[] {
    const k = Math.floor(u / MEMBERS);
    const j = (u % MEMBERS) - 1;
    const statement = this.statements[k];
    return j < 0 ? [statement] : [statement.split!.header, statement.split!.members[j]];
  }

  private load(units: Unit[]): void {
    if (this.whole) return;
    const todo = units.filter((u) => !this.loaded.has(u));
    if (!todo.length) return;
    for (const u of todo) this.loaded.add(u);
    // Every tree-sitter call, the walks included, inside one native call (see python/parser.ts).
    nativeCall(() => this.parseParts(todo));
  }

  /** Parses the parts `todo` in one tree-sitter call and reads their locations off the tree. */
  private parseParts(todo: Unit[]): void {
    // Spans laid end to end still read as Python: top-level statements one after another, or a
    // class line followed by some of its body's statements. The parser skips the text between.
    const spans = [...new Set(todo.flatMap((u) => this.spansOf(u)))].sort((a, b) => a.start - b.start);
    const ranges: Parser.Range[] = [];
    for (const span of spans) {
      const endPosition = span.end === this.source.length ? this.end : { row: span.endRow, column: 0 };
      const last = ranges[ranges.length - 1];
      if (last && last.endIndex === span.start) Object.assign(last, { endIndex: span.end, endPosition });
      else ranges.push({ startIndex: span.start, endIndex: span.end, startPosition: { row: span.row, column: 0 }, endPosition });
    }
    const tree = parser.parse(this.source, null, { includedRanges: ranges });
    if (tree.rootNode.hasError && (this.wholeClean ??= !parser.parse(this.source).rootNode.hasError)) {
      // The split was wrong: the parts have errors that the whole file has not.
      this.whole = true;
      this.owner.fill(null);
      this.defined.clear();
      this.definesCache.clear();
      this.outline(parser.parse(this.source));
      return;
    }
    // Errors the whole file has too are tree-sitter's (it misreads some valid code, such as a
    // dedent inside brackets) or the file's own; parsed in parts they stay in their part.
    this.outline(tree);
  }

  private outline(tree: Parser.Tree): void {
    // Nodes come in document order, so the enclosing ones are those on the stack that end after
    // the node starts. Outermost functions fill their rows; outermost classes then clear the rows
    // those functions filled (a class inside a function owns its lines); methods fill next; import
    // statements and class docstrings clear theirs last.
    const functionRows: [number, number][] = [];
    const ownNothing: Parser.SyntaxNode[] = [];
    const stack: Parser.SyntaxNode[] = [];
    const classes: Parser.SyntaxNode[] = [];
    const methods: [Parser.SyntaxNode, string][] = [];
    for (const node of tree.rootNode.descendantsOfType(TYPES)) {
      while (stack.length && stack[stack.length - 1].endIndex <= node.startIndex) stack.pop();
      const first = node.startPosition.row;
      const last = node.endPosition.row;
      if (IMPORTS.includes(node.type)) {
        ownNothing.push(node);
        continue;
      }
      const inClass = stack.some((n) => n.type === CLASS);
      if (node.type === CLASS) {
        if (!inClass) classes.push(node);
        const docstring = docstringOf(node);
        if (docstring) ownNothing.push(docstring);
      } else if (!inClass && !stack.some((n) => n.type === DEF)) {
        const name = nameOf(node);
        this.owner.fill(name, first, last + 1);
        functionRows.push([first, last]);
        this.defined.add(name);
      } else if (stack.filter((n) => n.type === CLASS).length === 1) {
        // The only enclosing class is an outermost one, so a def directly in a class body is its method.
        const cls = directClass(node);
        if (cls) methods.push([node, `${nameOf(cls)}.${nameOf(node)}`]);
      }
      stack.push(node);
    }
    // A class's range may span parts of its body parsed at other times; only this tree's function
    // rows are cleared.
    for (const cls of classes) {
      const [first, last] = [cls.startPosition.row, cls.endPosition.row];
      for (const [a, b] of functionRows) if (a <= last && b >= first) this.owner.fill(null, Math.max(a, first), Math.min(b, last) + 1);
    }
    for (const [def, location] of methods) {
      this.owner.fill(location, def.startPosition.row, def.endPosition.row + 1);
      this.defined.add(location);
    }
    for (const node of ownNothing) this.owner.fill(null, node.startPosition.row, node.endPosition.row + 1);
  }
}

/** Offsets of the `class` and `def` keywords, by the name written after each. */
interface HeaderIndex {
  class: Map<string, number[]>;
  def: Map<string, number[]>;
}

/**
 * `class name` and `def name`, with anything Python allows between them (spaces, continuations),
 * found in one pass over the file. A name is the whole run of identifier characters after the
 * separators; only the keyword is consumed, so a header written inside another's name still counts.
 */
const HEADER = /(?<![\p{ID_Continue}])(class|def)(?=([\s\\]+)(\p{ID_Continue}*))/gu;

export function indexHeaders(source: string): HeaderIndex {
  const index: HeaderIndex = { class: new Map(), def: new Map() };
  const add = (byName: Map<string, number[]>, name: string, at: number) => {
    const list = byName.get(name);
    if (list) list.push(at);
    else byName.set(name, [at]);
  };
  for (const m of source.matchAll(HEADER)) {
    const byName = index[m[1] as 'class' | 'def'];
    add(byName, m[3], m.index);
    // The empty name (a def tree-sitter recovered without one) is written wherever one separator
    // is followed by something other than an identifier character: another separator will do.
    if (m[3] !== '' && m[2].length > 1) add(byName, '', m.index);
  }
  return index;
}

export function outlinePython(source: string): PythonOutline {
  return new Outline(source);
}
