import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { extractCode, findFencedBlocks, pyStrip, scanFencedBlocks } from '../../src/extract/fences.ts';
import { runPython } from '../support/python.ts';

interface FenceCase { name: string; text: string; expected: string[] }
interface PyFence { blocks: string[]; stripped: string[]; whole: string }

const cases: FenceCase[] = JSON.parse(readFileSync(new URL('../fixtures/extract/fences.json', import.meta.url), 'utf8'));

test('fixture expectations still match python3 re.findall', () => {
  const py = runPython<PyFence[]>('extract/findall.py', cases.map((c) => c.text));
  cases.forEach((c, i) => assert.deepEqual(py[i].blocks, c.expected, c.name));
});

for (const c of cases) {
  test(`findFencedBlocks: ${c.name}`, () => {
    assert.deepEqual(findFencedBlocks(c.text), c.expected);
  });
}

test('extractCode modes agree with python3 findall + str.strip on every fixture', () => {
  const py = runPython<PyFence[]>('extract/findall.py', cases.map((c) => c.text));
  cases.forEach((c, i) => {
    const { stripped, whole } = py[i];
    const single = extractCode(c.text, 'single_block');
    if (stripped.length === 0) assert.deepEqual(single, { status: 'no_code', code: '' }, c.name);
    else if (stripped.length > 1) assert.deepEqual(single, { status: 'multiple_blocks', code: '' }, c.name);
    else if (stripped[0] === '') assert.deepEqual(single, { status: 'empty_code', code: '' }, c.name);
    else assert.deepEqual(single, { status: 'ok', code: stripped[0] }, c.name);

    const last = extractCode(c.text, 'last_block');
    const lastCode = stripped[stripped.length - 1];
    if (stripped.length === 0) assert.deepEqual(last, { status: 'no_code', code: '' }, c.name);
    else if (lastCode === '') assert.deepEqual(last, { status: 'empty_code', code: '' }, c.name);
    else assert.deepEqual(last, { status: 'ok', code: lastCode }, c.name);

    const none = extractCode(c.text, 'none');
    assert.deepEqual(none, whole === '' ? { status: 'empty_code', code: '' } : { status: 'ok', code: whole }, c.name);
  });
});

test('status table for the extraction modes', () => {
  const two = '```python\na = 1\n```\n```python\nb = 2\n```';
  assert.deepEqual(extractCode(two, 'single_block'), { status: 'multiple_blocks', code: '' });
  assert.deepEqual(extractCode(two, 'last_block'), { status: 'ok', code: 'b = 2' });
  assert.deepEqual(extractCode('no fences here', 'single_block'), { status: 'no_code', code: '' });
  assert.deepEqual(extractCode('no fences here', 'last_block'), { status: 'no_code', code: '' });
  assert.deepEqual(extractCode('  \n\t', 'none'), { status: 'empty_code', code: '' });
  assert.deepEqual(extractCode('```\n \n```', 'single_block'), { status: 'empty_code', code: '' });
});

test('pyStrip uses Python whitespace, not JS trim', () => {
  assert.equal(pyStrip('\x1c\x1d\x1e\x1f\x85 x \u3000'), 'x');
  assert.equal(pyStrip('\ufeffx\ufeff'), '\ufeffx\ufeff');
});

test('\\w agrees with python3 on every code point its Unicode database assigns', () => {
  const { unicode, word, assigned } = runPython<{ unicode: string; word: [number, number][]; assigned: [number, number][] }>(
    'extract/wordchars.py',
    null,
  );
  const isWord = new Set<number>();
  for (const [a, b] of word) for (let cp = a; cp <= b; cp++) isWord.add(cp);
  const mismatches: string[] = [];
  for (const [a, b] of assigned) {
    for (let cp = a; cp <= b; cp++) {
      // "\n" and "`" make the probe open by another route (empty tag, later fence).
      if (cp === 0x0a || cp === 0x60) continue;
      const opens = findFencedBlocks('```' + String.fromCodePoint(cp) + '\nx```').length === 1;
      if (opens !== isWord.has(cp)) mismatches.push(cp.toString(16));
    }
  }
  assert.deepEqual(mismatches.slice(0, 20), [], `Unicode ${unicode}: ${mismatches.length} code points disagree`);
});

test('random fence soup agrees with python3 re.findall', () => {
  const alphabet = ['`', '`', '`', '```', '\n', '\r\n', 'a', 'py', ' ', '+', 'é', '\u0301', '\t', '_'];
  const texts = fc.sample(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((a) => a.join('')), {
    numRuns: 3000,
    seed: 1234,
  });
  const py = runPython<PyFence[]>('extract/findall.py', texts);
  texts.forEach((t, i) => assert.deepEqual(findFencedBlocks(t), py[i].blocks, JSON.stringify(t)));
});

// Hostile shapes: each is built at three sizes, ten times apart. The scan counts the characters it
// inspects: a bounded number per input character, and ten times the input costs about ten times the
// steps (a quadratic scan would cost a hundred times).
const hostile: Record<string, (n: number) => string> = {
  'all backticks': (n) => '`'.repeat(n),
  'fences without newline': (n) => '```x'.repeat(n / 4),
  'many small blocks': (n) => '```\nx\n```'.repeat(n / 10),
  'unclosed openings': (n) => '```\n'.repeat(n / 4),
  'long tags that fail': (n) => ('```' + 'a'.repeat(97)).repeat(n / 100),
  'alternating tick runs': (n) => '``\n`'.repeat(n / 4),
};

for (const [name, make] of Object.entries(hostile)) {
  test(`linear scan: ${name}`, () => {
    const runs = [20_000, 200_000, 2_000_000].map((size) => {
      const text = make(size);
      const { steps } = scanFencedBlocks(text);
      assert.ok(steps <= 4 * text.length + 16, `${name} @${size}: ${steps} steps for ${text.length} chars`);
      return { steps, chars: text.length };
    });
    for (const [small, big] of [runs.slice(0, 2), runs.slice(1)]) {
      const growth = big.steps / small.steps;
      assert.ok(growth <= 1.2 * (big.chars / small.chars), `${name}: steps grew ${growth.toFixed(1)}x for ${big.chars / small.chars}x the input`);
    }
  });
}

test('20,000 fences are all found', () => {
  const text = Array.from({ length: 20_000 }, (_, i) => '```python\nx = ' + i + '\n```').join('\nprose\n');
  const { blocks, steps } = scanFencedBlocks(text);
  assert.equal(blocks.length, 20_000);
  assert.equal(blocks[19_999], 'x = 19999\n');
  assert.ok(steps <= 4 * text.length + 16, `${steps} steps for ${text.length} chars`);
  assert.equal(extractCode(text, 'single_block').status, 'multiple_blocks');
  assert.deepEqual(extractCode(text, 'last_block'), { status: 'ok', code: 'x = 19999' });
});
