import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractCode } from '../../src/extract/fences.ts';
import { checkPythonSyntax, MAX_PARSE_CHARS } from '../../src/pysyntax/validity.ts';
import { judge } from '../fixtures/pysyntax/corpus.ts';

interface Case {
  rule: string;
  code: string;
  valid: boolean;
  line?: number | null;
  message?: string;
  /** A known difference from python3, and why. */
  deviation?: string;
}

const cases: Case[] = JSON.parse(readFileSync(new URL('../fixtures/pysyntax/validity.json', import.meta.url), 'utf8'));

test('fixture expectations still match python3 ast.parse', () => {
  const py = judge(cases.map((c) => c.code));
  cases.forEach((c, i) => {
    assert.equal(py[i].valid, c.valid, JSON.stringify(c.code));
    if (!c.valid) assert.deepEqual([py[i].line, py[i].message], [c.line, c.message], JSON.stringify(c.code));
  });
});

const rules = [...new Set(cases.map((c) => c.rule))];
for (const rule of rules) {
  test(`verdicts agree with ast.parse: ${rule}`, () => {
    for (const c of cases.filter((x) => x.rule === rule)) {
      const v = checkPythonSyntax(c.code);
      if (c.deviation) assert.equal(v.valid, !c.valid, `documented deviation no longer holds: ${JSON.stringify(c.code)}`);
      else assert.equal(v.valid, c.valid, `${JSON.stringify(c.code)} -> ${JSON.stringify(v)}`);
    }
  });
}

test('error lines and messages mostly match CPython (CPython wording where we can)', () => {
  let invalid = 0;
  let sameLine = 0;
  let sameMessage = 0;
  const off: string[] = [];
  for (const c of cases) {
    if (c.valid || c.deviation || c.line == null) continue;
    const v = checkPythonSyntax(c.code);
    invalid++;
    if (v.line === c.line) sameLine++;
    if (v.message === c.message) sameMessage++;
    else off.push(`${JSON.stringify(c.code)}: ${c.message} | ${v.message}`);
    assert.ok(v.message && v.message.length > 0 && v.line! >= 1, JSON.stringify(c.code));
  }
  console.log(`# ${invalid} invalid cases: same line ${sameLine}, same message ${sameMessage}`);
  assert.ok(sameLine / invalid >= 0.97, `lines: ${sameLine}/${invalid}`);
  assert.ok(sameMessage / invalid >= 0.85, `messages: ${sameMessage}/${invalid}\n${off.join('\n')}`);
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

// Hostile inputs: each answered within the bound (generous: this machine is
// noisy), with a verdict, never an exception or a stack overflow.
const BOUND_MS = 2000;
const hostile: [string, () => string, boolean | null][] = [
  ['100,000 open parentheses', () => 'x = ' + '('.repeat(100_000), false],
  ['2 MB single line: a string literal', () => "x = '" + 'a'.repeat(2_000_000) + "'\n", false],
  ['2 MB single line: a sum (CPython: RecursionError)', () => 'x = ' + '1+'.repeat(1_000_000) + '1\n', false],
  ['2 MB single line: a list', () => 'x = [' + '1, '.repeat(666_000) + ']\n', false],
  ['2 MB single line: f-string expressions', () => "x = f'" + '{a}'.repeat(660_000) + "'\n", false],
  ['2 MB of backticks', () => '`'.repeat(2_000_000), false],
  ['5,000 nested blocks', () => Array.from({ length: 5000 }, (_, i) => ' '.repeat(i) + 'if x:\n').join('') + ' '.repeat(5000) + 'pass\n', false],
  ['5,000 nested brackets', () => 'x = ' + '['.repeat(5000) + ']'.repeat(5000) + '\n', false],
  ['100,000 unary minus', () => '-'.repeat(100_000) + 'x\n', false],
  ['100,000 nested lambdas', () => 'lambda: '.repeat(100_000) + 'x\n', false],
  ['a 480 KB program of 80,000 lines', () => 'x = 1\n'.repeat(80_000), null],
  ['20,000 fences, last block checked', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => '```python\nx = ' + i + '\n```').join('\n');
    return extractCode(text, 'last_block').code;
  }, true],
];

for (const [name, make, expected] of hostile) {
  test(`hostile input answered within ${BOUND_MS} ms: ${name}`, () => {
    const code = make();
    const t0 = performance.now();
    const v = checkPythonSyntax(code);
    const ms = performance.now() - t0;
    console.log(`# ${name}: ${ms.toFixed(0)} ms, ${JSON.stringify(v).slice(0, 120)}`);
    assert.ok(ms < BOUND_MS, `${ms.toFixed(0)} ms`);
    if (expected !== null) assert.equal(v.valid, expected);
    if (!v.valid) assert.ok(v.message && v.line! >= 1);
  });
}

test('inputs over the size limit get a clear verdict', () => {
  const big = 'x = 1\n'.repeat(Math.ceil(MAX_PARSE_CHARS / 6) + 1);
  const v = checkPythonSyntax(big);
  assert.deepEqual(v, { valid: false, line: 1, message: `code too large to check (${big.length} characters; limit ${MAX_PARSE_CHARS})` });
  // Past the limit only the tokenizer runs; its errors are still reported.
  assert.equal(checkPythonSyntax(big + 'if x:\n\ty\n        z\n').message, 'inconsistent use of tabs and spaces in indentation');
});

test('empty and comment-only code is valid, as for ast.parse', () => {
  for (const code of ['', '\n', '# just a comment', '   \n\t\n']) assert.deepEqual(checkPythonSyntax(code), { valid: true });
});
