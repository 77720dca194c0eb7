// The work of encoding prompts, counted in pre-token chunks handed to the tokenizer's BPE model:
// it stops at MAX_LENGTH instead of growing with the text, and a question shared by a request's
// items is tokenized once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareItem } from '../../src/prep/prepare.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { tokenizerModelDir } from '../support/fakes.ts';

/** Pre-token chunks handed to the tokenizer's BPE model while `fn` runs. */
function chunksToBpe(tokenizer: unknown, fn: () => void): number {
  const inner = tokenizer as { model: (tokens: string[]) => string[] };
  const model = inner.model;
  let chunks = 0;
  inner.model = new Proxy(model, { apply: (target, self, args: [string[]]) => { chunks += args[0].length; return Reflect.apply(target, self, args); } });
  try {
    fn();
  } finally {
    inner.model = model;
  }
  return chunks;
}

describe('the work of encoding a prompt is bounded by MAX_LENGTH', () => {
  const encoder = new PromptEncoder(tokenizerModelDir(), 4096);
  const tokenizerOf = (e: PromptEncoder) => (e as unknown as { tokenizer: unknown }).tokenizer;

  it('a 256 KiB run of digits (a chunk per digit) hands BPE about MAX_LENGTH chunks, not one per digit', () => {
    let truncated = false;
    const chunks = chunksToBpe(tokenizerOf(encoder), () => { truncated = encoder.encodeText('9'.repeat(256 * 1024)).truncated; });
    assert.equal(truncated, true);
    assert.ok(chunks <= 2 * 4096, `${chunks} chunks for MAX_LENGTH 4096`);
  });

  it('an 8 KB question shared by 128 items (a rerank query) is tokenized once, not once per item', () => {
    const question = 'Explain the numbers 12 345 and 67 890, then sort them. '.repeat(150);
    const item = (i: number) => ({ question, response: `\`\`\`python\nprint(${i})\n\`\`\`` });
    const first = chunksToBpe(tokenizerOf(encoder), () => prepareItem(encoder, item(0), 'single_block', 'softplus'));
    const rest = chunksToBpe(tokenizerOf(encoder), () => {
      for (let i = 1; i < 128; i++) assert.ok(prepareItem(encoder, item(i), 'single_block', 'softplus').prompt);
    });
    assert.ok(first >= 1000, `${first} chunks for the first item`);
    assert.ok(rest < first, `${rest} chunks for the other 127 items, against ${first} for the first`);
  });
});
