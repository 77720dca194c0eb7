// The Unicode 14.0 tables of src/pysyntax/unicode.ts against python3's own
// unicodedata (the Unicode version of CPython 3.11), over every code point,
// and "\N{...}" names against python3's ast.parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync } from 'node:zlib';
import { isCharacterName, isNonPrintable, isXidContinue, isXidStart } from '../../src/pysyntax/unicode.ts';
import { NAMES_BROTLI } from '../../src/pysyntax/unicode14.ts';
import { judge } from '../fixtures/pysyntax/corpus.ts';
import { runPython } from '../support/python.ts';
import { mulberry32 as rng } from '../../tools/mulberry32.ts';

interface Tables { unicode: string; start: [number, number][]; continue: [number, number][]; nonprintable: [number, number][]; names: string[] }
const py = runPython<Tables>('pysyntax/unicode_tables.py', null);

function assertSameSet(name: string, ranges: [number, number][], mine: (cp: number) => boolean): void {
  const expected = new Uint8Array(0x110000);
  for (const [a, b] of ranges) expected.fill(1, a, b + 1);
  const wrong: string[] = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    if (mine(cp) !== (expected[cp] === 1)) wrong.push(cp.toString(16));
  }
  assert.deepEqual(wrong.slice(0, 20), [], `${name}: ${wrong.length} code points differ`);
}

test('python3 uses Unicode 14.0, the version of the tables', () => {
  assert.equal(py.unicode, '14.0.0');
});

test('identifier characters match python3 on every code point', () => {
  assertSameSet('identifier start', py.start, (cp) => cp === 0x5f || isXidStart(cp));
  assertSameSet('identifier continue', py.continue, isXidContinue);
});

test('printable characters match python3 on every code point', () => {
  assertSameSet('non-printable', py.nonprintable, (cp) => cp !== 0x20 && isNonPrintable(cp));
});

test('every character name python3 knows is accepted', () => {
  const missing = py.names.filter((n) => !isCharacterName(n));
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${py.names.length} names rejected`);
});

// A seeded fifth of the names the table holds (names and aliases), some in
// lower case, and near misses of them; python3 compiles each as "\N{...}"
// and decides.
test('"\\N{...}" names agree with python3 ast.parse, near misses included', () => {
  const table = brotliDecompressSync(Buffer.from(NAMES_BROTLI, 'base64')).toString('latin1').split('\n');
  const r = rng(14);
  const candidates = new Set<string>();
  for (const n of table) {
    if (r() >= 0.2) continue;
    candidates.add(n);
    if (r() < 0.3) candidates.add(n.toLowerCase());
    if (r() < 0.6) {
      const k = Math.floor(r() * n.length);
      candidates.add(r() < 0.5 ? n.slice(0, k) + n.slice(k + 1) : n.slice(0, k) + 'X' + n.slice(k));
    }
  }
  for (const n of py.names) if (/^(HANGUL SYLLABLE|CJK UNIFIED)/.test(n) && r() < 0.05) {
    candidates.add(n.toLowerCase());
    candidates.add(n + 'A');
    candidates.add(n.slice(0, -1));
  }
  for (const n of ['HANGUL SYLLABLE ', 'HANGUL SYLLABLE A', 'CJK UNIFIED IDEOGRAPH-04E00', 'CJK UNIFIED IDEOGRAPH-F900', 'TANGUT IDEOGRAPH-17000',
    'LATIN CAPITAL LETTER A WITH MACRON AND GRAVE', 'latin small letter a', ' LATIN SMALL LETTER A', 'LATIN SMALL LETTER A ', 'LATIN SMALL LETTER  A',
    'LATIN_SMALL_LETTER_A', 'KAWI LETTER A', 'EOL', 'zwj', 'ﬁ', 'LATİN SMALL LETTER A', 'latın small letter a']) candidates.add(n);
  const names = [...candidates];
  const truth = judge(names.map((n) => `'\\N{${n}}'\n`));
  const wrong = names.filter((n, i) => isCharacterName(n) !== truth[i].valid);
  console.log(`# ${names.length} names (${table.length} in the table), ${truth.filter((t) => t.valid).length} valid per python3`);
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} names judged differently`);
});
