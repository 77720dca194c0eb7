// Fence extraction (src/extract/fences.ts) against python3's re.findall and str.strip, run in the
// test: the fixture's expectations, every extraction mode, Unicode's word characters and random fence
// soup. test/extract/fences.test.ts holds the same fixture without Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { extractCode, findFencedBlocks } from '../../src/extract/fences.ts';
import { runPython } from '../support/python.ts';

interface FenceCase { name: string; text: string; expected: string[] }
interface PyFence { blocks: string[]; stripped: string[]; whole: string }

const cases: FenceCase[] = JSON.parse(readFileSync(new URL('../fixtures/extract/fences.json', import.meta.url), 'utf8'));

test('fixture expectations still match python3 re.findall', () => {
  const py = runPython<PyFence[]>('extract/findall.py', cases.map((c) => c.text));
  cases.forEach((c, i) => assert.deepEqual(py[i].blocks, c.expected, c.name));
});

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
