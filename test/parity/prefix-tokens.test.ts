// The service tokenizes only as much of a text as MAX_LENGTH can use (src/prompt/prefix-tokens.ts).
// Held against transformers' own tokenizer encoding the whole text and cutting it: the demo model's
// (Qwen3's) and Llama 3's (with its BOS), on texts whose BPE merges cross the cut, at many cuts, and
// through the service's encoder with its MAX_LENGTH.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PrefixTokenizer } from '../../src/prompt/prefix-tokens.ts';
import { makeTokenizer, PromptEncoder } from '../../src/prompt/prompt.ts';
import { chatTemplates } from './chat-cases.ts';
import { parityPython, REPO, runPython } from './support.ts';

const DEMO_MODEL = join(REPO, 'models/tiny-random-qwen3-rm');

/** Runs, repeats and special tokens whose merges cross any cut; long enough to be cut many times. */
const TEXTS = [
  '1234567890'.repeat(40),
  '0'.repeat(700),
  ' '.repeat(600) + 'x' + ' '.repeat(30) + '\n',
  ' \n \n\n   \r\n\t'.repeat(60),
  '!!!???...'.repeat(30) + '=' .repeat(300) + '\u2014'.repeat(100),
  'abcabcabd'.repeat(70),
  '漢字のテキスト，中文。漢字漢字漢字'.repeat(30),
  '😀👍🏽👨‍👩‍👧🇯🇵'.repeat(40),
  'e\u0301a\u0308\u0323o\u0302\uac00\u1100\u1161'.repeat(60),
  '<|im_start|>user\n12 + 34<|im_end|>\n<|begin_of_text|>  <|eot_id|>\n'.repeat(20),
  "def f(x):\n    return x ** 2  # it's 'square'\n\n".repeat(25),
];

type Case = { text: string; add_special_tokens: boolean; limit: number };

function pythonIds(tokenizerDir: string, cases: Case[]): number[][] {
  const out = runPython(parityPython(), ['test/parity/prefix_tokens.py'], JSON.stringify({ tokenizer_dir: tokenizerDir, cases }));
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout) as number[][];
}

const tmp = mkdtempSync(join(tmpdir(), 'prefix-tokens-parity-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('the first MAX_LENGTH ids against transformers encoding the whole text', () => {
  const llamaDir = join(tmp, 'llama3');
  chatTemplates().find((t) => t.name === 'llama3')!.writeTokenizer(llamaDir);
  const tokenizers = [
    { name: 'the demo model (Qwen3)', dir: DEMO_MODEL, files: { tokenizerPath: join(DEMO_MODEL, 'tokenizer.json'), tokenizerConfig: {}, chatTemplate: '' } },
    { name: 'Llama 3', dir: llamaDir, files: { tokenizerPath: join(llamaDir, 'tokenizer.json'), tokenizerConfig: {}, chatTemplate: '' } },
  ];

  for (const { name, dir, files } of tokenizers) {
    it(`${name}: every text at many cuts, with and without special tokens`, () => {
      const prefix = new PrefixTokenizer(makeTokenizer(files), 0);
      assert.equal(prefix.lazy, true);
      const cases: Case[] = TEXTS.flatMap((text) => [false, true].flatMap((add) => [1, 2, 3, 5, 8, 13, 31, 64, 100, 127, 128, 129, 200, 255, 333, 512, 4096]
        .map((limit) => ({ text, add_special_tokens: add, limit }))));
      const want = pythonIds(dir, cases);
      const wrong = cases.filter((c, i) => JSON.stringify(prefix.encode(c.text, c.add_special_tokens, c.limit, () => assert.fail('fell back'))) !== JSON.stringify(want[i]));
      assert.deepEqual(wrong.map((c) => `${JSON.stringify(c.text.slice(0, 20))}… add=${c.add_special_tokens} limit=${c.limit}`), []);
    });
  }

  it("the demo model's encoder: templated long texts, right-truncated at its MAX_LENGTH, as transformers truncates them", () => {
    const maxLength = 256;
    const encoder = new PromptEncoder({ ...tokenizers[0].files, tokenizerConfig: {}, chatTemplate: '' }, maxLength);
    const texts = TEXTS.map((t) => `<|im_start|>user\n${t}<|im_end|>\n<|im_start|>assistant\n${t}<|im_end|>\n`);
    const want = pythonIds(DEMO_MODEL, texts.map((text) => ({ text, add_special_tokens: false, limit: maxLength })));
    texts.forEach((text, i) => assert.deepEqual([...encoder.encodeText(text).ids], want[i], JSON.stringify(text.slice(0, 40))));
  });
});
