// The light lexical split behind the partial parses (src/localization/top-level.ts): where
// top-level statements and the members of top-level class bodies start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitStatements } from '../../src/localization/top-level.ts';

/** Statements as their first rows; split classes as [first row, [member rows with "def" marks]]. */
function layout(lines: string[]) {
  return splitStatements(lines.join('\n') + '\n').map((s) =>
    s.split ? [s.row, s.split.members.map((m) => (m.isDef ? `def@${m.row}` : `${m.row}`))] : s.row);
}

describe('splitStatements', () => {
  const cases: [string, string[], unknown[]][] = [
    ['one statement per column-0 line; leading comments join the first', ['# c', 'import os', 'x = 1', '', 'def f():', '    pass'], [0, 2, 4]],
    ['decorators start their statement; the def after them does not', ['@a', '@b(1)', 'def f():', '    pass', 'y = 2'], [0, 4]],
    ['else/elif/except/finally continue their statement', ['try:', '    x', 'except E:', '    y', 'else:', '    z', 'finally:', '    w', 'if a:', '    b', 'elif c:', '    d'], [0, 8]],
    ['brackets, strings and continuations hide column-0 lines', ['x = [', '1,', ']', 's = """', 'def fake():', '"""', 't = 1 + \\', '2', "u = 'a\\", "b'", 'v = 3'], [0, 3, 6, 8, 10]],
    ['a comment or string holding brackets or quotes changes nothing', ['a = 1  # (', 'b = ")"', "c = '#'", 'd = 4'], [0, 1, 2, 3]],
    ['a class body splits into members; decorated defs start at their decorator', [
      'class C(', '    Base,', '):', '    """Doc."""', '    x = 1', '', '    @property', '    def a(self):', '        return (', '1)', '    async def b(self):', '        pass', '    class Inner:', '        def c(self):', '            pass', 'z = 1'],
    [[0, ['3', '4', 'def@6', 'def@10', '12']], 15]],
    ['a decorated class splits after its decorators', ['@dataclass', 'class C:', '    x: int', '    def f(self):', '        pass'], [[0, ['2', 'def@3']]]],
    ['a one-line class and a class in a function are not split', ['class C: pass', 'def f():', '    class D:', '        def g(self):', '            pass'], [0, 1]],
    ['an empty file is one empty statement', [], [0]],
  ];
  for (const [name, lines, expected] of cases) {
    it(name, () => assert.deepEqual(layout(lines), expected));
  }

  it('gives each part the rows and offsets of whole lines', () => {
    const text = 'import os\n\nclass C:\n    def f(self):\n        pass\n\n    y = 2\n';
    const [imp, cls] = splitStatements(text);
    assert.deepEqual(imp, { start: 0, end: 11, row: 0, endRow: 2 });
    assert.deepEqual(cls.split?.header, { start: 11, end: 20, row: 2, endRow: 3 });
    assert.deepEqual(cls.split?.members.map((m) => text.slice(m.start, m.end)), ['    def f(self):\n        pass\n\n', '    y = 2\n']);
    assert.deepEqual([cls.end, cls.endRow], [text.length, 7]);
  });
});
