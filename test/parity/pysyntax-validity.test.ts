// The syntax check (src/pysyntax/validity.ts) against python3's ast.parse, run in the test: the
// fixture's expectations (test/pysyntax/validity.test.ts holds the service to them without Python)
// and CPython's limits at their boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkPythonSyntax } from '../../src/pysyntax/validity.ts';
import { judge } from '../fixtures/pysyntax/corpus.ts';

interface Case { code: string; valid: boolean; line?: number | null; message?: string }

const cases: Case[] = JSON.parse(readFileSync(new URL('../fixtures/pysyntax/validity.json', import.meta.url), 'utf8'));

test('fixture expectations still match python3 ast.parse', () => {
  const py = judge(cases.map((c) => c.code));
  cases.forEach((c, i) => {
    assert.equal(py[i].valid, c.valid, JSON.stringify(c.code));
    if (!c.valid) assert.deepEqual([py[i].line, py[i].message], [c.line, c.message], JSON.stringify(c.code));
  });
});

// CPython's limits, checked at the boundary against python3 itself.
const limits: [string, string][] = [
  ['99 nested blocks', Array.from({ length: 99 }, (_, i) => ' '.repeat(i) + 'if x:\n').join('') + ' '.repeat(99) + 'pass\n'],
  ['100 nested blocks', Array.from({ length: 100 }, (_, i) => ' '.repeat(i) + 'if x:\n').join('') + ' '.repeat(100) + 'pass\n'],
  ['200 nested brackets', 'x = ' + '('.repeat(200) + ')'.repeat(200) + '\n'],
  ['201 nested brackets', 'x = ' + '('.repeat(201) + ')'.repeat(201) + '\n'],
  ['2985 unary operators', '-'.repeat(2985) + 'x\n'],
  ['2986 unary operators', '-'.repeat(2986) + 'x\n'],
  ['2985 additions', 'a' + '+a'.repeat(2985) + '\n'],
  ['2986 additions', 'a' + '+a'.repeat(2986) + '\n'],
  ['2986 attributes', 'a' + '.a'.repeat(2986) + '\n'],
  ['2984 additions in a function', 'def f():\n return a' + '+a'.repeat(2984) + '\n'],
  ['2985 additions in a function', 'def f():\n return a' + '+a'.repeat(2985) + '\n'],
  ['2885 additions in 100 lists', '['.repeat(100) + 'a' + '+a'.repeat(2885) + ']'.repeat(100) + '\n'],
  ['2886 additions in 100 lists', '['.repeat(100) + 'a' + '+a'.repeat(2886) + ']'.repeat(100) + '\n'],
  ['5000 and-operands (flat in the AST)', 'x = a' + ' and a'.repeat(5000) + '\n'],
  ['20000 list elements', 'x = [' + '1, '.repeat(20000) + ']\n'],
];

test("CPython's limits: nesting, indentation and AST depth", () => {
  const py = judge(limits.map(([, code]) => code));
  limits.forEach(([name, code], i) => {
    assert.equal(checkPythonSyntax(code).valid, py[i].valid, `${name}: python says ${JSON.stringify(py[i])}`);
  });
});

