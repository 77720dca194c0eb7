import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractCode } from '../../src/extract/fences.ts';
import { checkPythonSyntax, MAX_PARSE_CHARS, type SyntaxVerdict } from '../../src/pysyntax/validity.ts';
import { assertLinearCost } from '../support/cost.ts';

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

// Hostile inputs: each gets a verdict, never an exception or a stack overflow, at a cost linear in
// its size: one input costs about what three inputs of a third of its size cost (test/support/cost.ts;
// both sizes on the same side of MAX_PARSE_CHARS).
/** Name, input at size n, the size checked, the verdict at that size (null: either). */
const hostile: [string, (n: number) => string, number, boolean | null][] = [
  ['open parentheses', (n) => 'x = ' + '('.repeat(n), 100_000, false],
  ['a single-line string literal (2 MB)', (n) => "x = '" + 'a'.repeat(n) + "'\n", 2_000_000, false],
  ['a single-line sum (2 MB; CPython: RecursionError)', (n) => 'x = ' + '1+'.repeat(n / 2) + '1\n', 2_000_000, false],
  ['a single-line list (2 MB)', (n) => 'x = [' + '1, '.repeat(Math.round(n / 3)) + ']\n', 2_000_000, false],
  ['single-line f-string expressions (2 MB)', (n) => "x = f'" + '{a}'.repeat(Math.round(n / 3)) + "'\n", 2_000_000, false],
  ['backticks (2 MB)', (n) => '`'.repeat(n), 2_000_000, false],
  ['nested blocks', (n) => Array.from({ length: n }, (_, i) => ' '.repeat(i) + 'if x:\n').join('') + ' '.repeat(n) + 'pass\n', 5000, false],
  ['nested brackets', (n) => 'x = ' + '['.repeat(n) + ']'.repeat(n) + '\n', 5000, false],
  ['unary minus', (n) => '-'.repeat(n) + 'x\n', 100_000, false],
  ['nested lambdas (1.6 MB)', (n) => 'lambda: '.repeat(n) + 'x\n', 200_000, false],
  ['a program of short lines (480 KB)', (n) => 'x = 1\n'.repeat(n), 80_000, null],
  ['fences, last block checked', (n) => Array.from({ length: n }, (_, i) => '```python\nx = ' + i + '\n```').join('\n'), 20_000, true],
];
/** The cases that are answers with fences: the code is extracted, then checked. */
const FENCED = new Set(['fences, last block checked']);

for (const [name, make, size, expected] of hostile) {
  test(`hostile input checked at a cost linear in its size: ${name}`, async () => {
    const check = FENCED.has(name) ? (text: string) => checkPythonSyntax(extractCode(text, 'last_block').code) : checkPythonSyntax;
    const big = make(size);
    const small = make(Math.round(size / 3));
    let v: SyntaxVerdict = { valid: true };
    let smallVerdict: SyntaxVerdict = { valid: true };
    await assertLinearCost(name, { run: () => (v = check(big)), size: big.length }, { run: () => (smallVerdict = check(small)), size: small.length });
    console.log(`${name}: ${JSON.stringify(v).slice(0, 120)}`);
    if (expected !== null) assert.equal(v.valid, expected);
    for (const verdict of [v, smallVerdict]) if (!verdict.valid) assert.ok(verdict.message && verdict.line! >= 1);
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
